// Our own avatar in the call: the choice (a built-in 2D character or one of our VRM actors,
// remembered in localStorage), its tracking settings, the preview, and the description we
// announce to the other side ({renderer, fileHash, id, name, license}).
import { DEFAULT_2D_KEY, getCharacter, isBuiltinKey } from "../avatar/characters2d.js";
import { fetchOwnAsset } from "./asset.js";

const AVATAR_PREF = "af.call.avatar";

/** Our avatar's license as announced (bounded: the server caps the description's size). */
export function licenseFor(av) {
  const lic = av.license || {};
  return {
    name: String(lic.name || "").slice(0, 120),
    authors: (lic.authors || []).slice(0, 5).map((a) => String(a).slice(0, 80)),
    url: String(lic.url || lic.otherLicenseUrl || "").slice(0, 300),
    card: (av.licenseCard || []).slice(0, 12).map((r) => ({
      key: String(r.key).slice(0, 40), state: String(r.state).slice(0, 16),
      label: String(r.label).slice(0, 60), value: String(r.value).slice(0, 120),
      code: String(r.code || "unknown").slice(0, 40), declared: r.declared !== false,
    })),
  };
}

export class LocalAvatar {
  /** actors: the user's actors usable in a call (json_script "call-actors"), each with its avatar card. */
  constructor({ ui, actors, pipeline, shortcuts }) {
    this.ui = ui;
    this.actors = actors;
    this.pipeline = pipeline;
    this.shortcuts = shortcuts;
    this.view = null; // the preview AvatarView
    this.description = null;
    this.ownVrm = null; // {hash, buffer} of our current VRM avatar (sent to the other side on request)
  }

  currentChoice() {
    const saved = localStorage.getItem(AVATAR_PREF);
    if (saved && (isBuiltinKey(saved) || this.actorFor(saved))) return saved;
    // Someone who made a VRM actor wants to be seen as it; built-in 2D is the fallback.
    if (this.actors.length) return `actor:${this.actors[0].id}`;
    return DEFAULT_2D_KEY;
  }

  actorFor(choice) {
    if (!choice || !choice.startsWith("actor:")) return null;
    const id = choice.slice(6);
    return this.actors.find((a) => String(a.id) === id) || null;
  }

  /** Show `choice` in the preview and take its tracking settings; returns the new description. */
  async apply(choice) {
    this.ui.setAvatarChoice(choice);
    localStorage.setItem(AVATAR_PREF, choice);
    const actor = this.actorFor(choice);
    this.pipeline.setSettings(actor ? actor.settings : {});
    this.shortcuts.setSettings(this.pipeline.settings);
    this.ui.renderShortcutHelp(this.pipeline.settings.shortcuts);
    if (!actor) {
      this.ownVrm = null;
      this.view.show2d(choice);
      this.description = { renderer: "2d", fileHash: null, id: choice, name: getCharacter(choice).name, license: null };
      return this.description;
    }
    const av = actor.avatar;
    this.ui.setBusy(true);
    try {
      const buffer = await fetchOwnAsset(av.fileUrl, av.fileHash);
      this.ownVrm = { hash: av.fileHash, buffer };
      await this.view.showVrm(buffer.slice(0));
    } catch (err) {
      this.ownVrm = null;
      this.view.show2d(DEFAULT_2D_KEY);
      this.ui.showMessage(err && err.code === "avatar_hash_mismatch" ? "vrm_failed" : "avatar_download_failed", "warning");
    } finally {
      this.ui.setBusy(false);
    }
    this.description = this.ownVrm
      ? { renderer: "vrm", fileHash: av.fileHash, id: String(av.id), name: av.name, license: licenseFor(av) }
      : { renderer: "2d", fileHash: null, id: DEFAULT_2D_KEY, name: getCharacter(DEFAULT_2D_KEY).name, license: null };
    return this.description;
  }
}
