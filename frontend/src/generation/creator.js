// The creator on a finished job's page: the avatar's parameters (read from the photo) as a form;
// every change previews at once in the 3D viewer (POST .../params/preview answers a VRM that is not
// stored), and "Save as a new version" starts a re-export job (PUT .../params) whose page opens.
// Text is set with textContent only; strings come from the page.
import { withCsrf } from "../csrf.js";

const DEBOUNCE_MS = 350;

/** The form's values as the API's params object (only fields the form has). */
export function formParams(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || !el.name.startsWith("p_")) continue;
    const name = el.name.slice(2);
    if (el.type === "checkbox") out[name] = el.checked;
    else if (el.type === "range" || el.type === "number") out[name] = Number(el.value);
    else out[name] = el.value;
  }
  return out;
}

/** Put the params into the form (unknown fields are ignored). */
export function fillForm(form, params) {
  for (const [name, value] of Object.entries(params)) {
    const el = form.elements[`p_${name}`];
    if (!el) continue;
    if (el.type === "checkbox") el.checked = Boolean(value);
    else el.value = String(value);
  }
}

export class Creator {
  constructor({ form, status, jobId, viewer, strings }) {
    this.form = form;
    this.status = status;
    this.jobId = jobId;
    this.viewer = viewer;
    this.strings = strings;
    this.timer = null;
    this.seq = 0;
    this.previews = 0;
  }

  async start() {
    const response = await fetch(`/api/generate/${this.jobId}/params`, { credentials: "same-origin" });
    if (!response.ok) {
      this.say(this.strings.creator_unavailable);
      return false;
    }
    const body = await response.json();
    fillForm(this.form, body.params);
    this.form.hidden = false;
    this.form.addEventListener("input", () => this.schedule());
    this.form.addEventListener("change", () => this.schedule());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    return true;
  }

  say(text) {
    this.status.textContent = text || "";
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.preview(), DEBOUNCE_MS);
  }

  async preview() {
    const seq = ++this.seq;
    this.say(this.strings.creator_previewing);
    try {
      const response = await fetch(`/api/generate/${this.jobId}/params/preview`, {
        method: "POST", credentials: "same-origin",
        headers: withCsrf({ "Content-Type": "application/json", Accept: "model/gltf-binary, application/json" }),
        body: JSON.stringify({ params: formParams(this.form) }),
      });
      if (seq !== this.seq) return; // a newer change is on its way
      if (!response.ok) {
        const error = await response.json().catch(() => ({}));
        this.say(error.message || this.strings.creator_failed);
        return;
      }
      await this.viewer.loadBuffer(await response.arrayBuffer());
      if (seq !== this.seq) return;
      this.previews += 1;
      this.say("");
    } catch (error) {
      this.say(this.strings.creator_failed);
      console.error(error);
    }
  }

  async save() {
    this.say(this.strings.creator_saving);
    const response = await fetch(`/api/generate/${this.jobId}/params`, {
      method: "PUT", credentials: "same-origin",
      headers: withCsrf({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify({ params: formParams(this.form) }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status !== 202) {
      this.say(body.message || this.strings.creator_failed);
      return;
    }
    window.location.assign(body.page_url);
  }
}
