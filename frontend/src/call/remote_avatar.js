// The other person's avatar: which one to show (built-in 2D, or a VRM from the cache, our own
// bytes in practice, or asked for over the "asset" channel), and driving it from their frames
// (interpolated for 2D, frame by frame for VRM) with the latency and roll samples the stats
// panel and the benchmarks read.
import { isBuiltinKey } from "../avatar/characters2d.js";
import { AssetReceiver, cachedAsset } from "./asset.js";
import { BS } from "./frame_codec.js";
import { FrameReceiver } from "./receiver.js";

const FALLBACK_2D = "builtin:robot";
const MAX_EXPRESSIONS = 32;

/** Held-expression weights from the other side, cleaned: at most 32 names, weights in 0..1. */
export function cleanExpressions(weights) {
  const clean = {};
  if (!weights || typeof weights !== "object") return clean;
  for (const [k, v] of Object.entries(weights).slice(0, MAX_EXPRESSIONS)) {
    if (typeof v === "number" && k.length <= 64) clean[k] = Math.max(0, Math.min(1, v));
  }
  return clean;
}

export class RemoteAvatar {
  /**
   * @param {{view:AvatarView, ui:CallUi, clock:ClockSync, stats:object,
   *          sendControl:(msg:object)=>void, ownVrm:()=>({hash:string, buffer:ArrayBuffer}|null)}} opts
   */
  constructor({ ui, clock, stats, sendControl, ownVrm }) {
    this.ui = ui;
    this.clock = clock;
    this.stats = stats;
    this.sendControl = sendControl;
    this.ownVrm = ownVrm;
    this.receiver = new FrameReceiver();
    this.view = null;
    this.avatar = null; // the description being shown
    this.pendingAsset = null; // hash asked for over the asset channel
  }

  attach(view) {
    this.view = view;
    view.show2d(FALLBACK_2D);
  }

  /** The receiver feeding a view: glide for 2D, each frame's pose as it is for VRM. */
  source(t) {
    this.receiver.interpolate = this.view.kind !== "vrm";
    return this.receiver.sample(t);
  }

  needsRender(t) {
    this.receiver.interpolate = this.view.kind !== "vrm";
    return this.receiver.needsRender(t);
  }

  async show(avatar) {
    this.avatar = avatar;
    this.ui.renderLicense(avatar);
    if (!avatar || avatar.renderer !== "vrm") {
      this.view.show2d(avatar && isBuiltinKey(avatar.id) ? avatar.id : FALLBACK_2D);
      this.stats.remoteKind = "2d";
      return;
    }
    // Practice partner mirrors us: our own bytes. Otherwise the cache, else ask the other side.
    const own = this.ownVrm();
    const buffer = own && own.hash === avatar.fileHash ? own.buffer : await cachedAsset(avatar.fileHash);
    if (!buffer) {
      this._setPending(avatar.fileHash);
      this.ui.setRemoteOverlay(this.ui.t.loading_avatar || "Loading the other person's avatar…");
      this.sendControl({ t: "asset_req", hash: avatar.fileHash });
      return;
    }
    await this.view.showVrm(buffer.slice(0));
    this.stats.remoteKind = this.view.kind;
    this.ui.updateOverlay();
  }

  /** Ask again for the avatar we still wait for (a new control channel opened). */
  requestPending() {
    if (this.pendingAsset) this.sendControl({ t: "asset_req", hash: this.pendingAsset });
  }

  /** The "asset" DataChannel of a new peer connection: VRM bytes the other side sends us. */
  wireAssetChannel(ch) {
    const rx = new AssetReceiver((hash, buf) => this.onAsset(hash, buf), (p) => {
      this.ui.setRemoteOverlay(`${this.ui.t.loading_avatar || "Loading the other person's avatar…"} ${Math.round(p * 100)}%`);
    });
    ch.onmessage = (e) => rx.handle(e.data);
  }

  onAsset(hash, buffer) {
    if (!this.avatar || this.avatar.fileHash !== hash) return;
    this._setPending(null);
    this.view.showVrm(buffer.slice(0)).then(() => {
      this.stats.remoteKind = this.view.kind;
      this.ui.updateOverlay();
    });
  }

  _setPending(hash) {
    this.pendingAsset = hash;
    this.ui.assetPending = Boolean(hash);
  }

  /** A binary frame from the "params" channel. */
  onFrame(data) {
    if (!(data instanceof ArrayBuffer)) return;
    const f = this.receiver.push(data);
    if (!f) return;
    const s = this.stats;
    s.framesReceived += 1;
    if (!f.face_lost) s.faceFramesReceived += 1;
    s.frameBytes = data.byteLength;
    if (this.clock.synced) s.arrival.push(this.clock.ageOf(f.timestamp_ms, performance.timeOrigin + performance.now()));
    if (data.byteLength > s.frameBytesMax) s.frameBytesMax = data.byteLength; // 178 with a body (v2)
    s.recvRoll.push([f.timestamp_ms, f.rotation[2]]);
    s.recvSmile.push((f.blendshapes[BS.mouthSmileLeft] + f.blendshapes[BS.mouthSmileRight]) / 2);
    s.recvJaw.push([f.timestamp_ms, f.blendshapes[BS.jawOpen]]); // the mouth as the other side sent it
  }

  setExpressions(weights) {
    this.receiver.expressions = cleanExpressions(weights);
  }

  /** After a draw: capture-to-render latency of the frames it showed (sender clock, synced). */
  onRendered(t) {
    const stamps = this.receiver.takeRendered();
    if (!stamps.length) return;
    const local = performance.timeOrigin + t;
    for (const ts of stamps) {
      const age = this.clock.ageOf(ts, local);
      if (age > -50 && age < 5000) this.stats.latency.push(age);
    }
  }

  reset() {
    this.receiver.reset();
  }
}
