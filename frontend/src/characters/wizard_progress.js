// The wizard's generation can take minutes on a small model: while its form is sent (a normal
// page POST, so the page works without this), poll GET /api/characters/wizard/progress/<id> and
// show the field being written; "Cancel generation" DELETEs it, and the POST comes back with
// `wizard_cancelled`. Texts come translated in data attributes; values are set as text only.
import { withCsrf } from "../csrf.js";

const POLL_MS = 1000;

export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => (Object.hasOwn(values, key) ? String(values[key]) : ""));
}

/** The line to show for a progress state (GET .../progress/<id>). */
export function describe(state, texts, labels) {
  if (state.cancelled) return texts.cancelling;
  if (state.attempt > 1 && !state.field) return fill(texts.retry, { attempt: state.attempt });
  if (!state.field) return texts.waiting;
  return fill(texts.writing, { field: labels[state.field] || state.field, done: state.done, total: state.total });
}

export class WizardProgress {
  constructor(box) {
    this.box = box;
    this.form = box.closest("form");
    this.bar = box.querySelector("progress");
    this.text = box.querySelector("[data-progress-text]");
    this.cancelButton = box.querySelector("[data-progress-cancel]");
    const labels = box.querySelector("#wizard-field-labels");
    this.labels = labels ? JSON.parse(labels.textContent) : {};
    this.texts = box.dataset;
    this.timer = null;
  }

  start() {
    this.form.addEventListener("submit", (event) => {
      const button = event.submitter;
      // On the draft page only "Generate again" generates; "Save" and "Discard" do not.
      if (button && button.name === "action" && button.value !== "regenerate") return;
      setTimeout(() => {
        if (!event.defaultPrevented) this.show();
      }, 0);
    });
    this.cancelButton.addEventListener("click", () => this.cancel());
  }

  show() {
    this.box.hidden = false;
    this.text.textContent = this.texts.waiting;
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  async poll() {
    let res;
    try {
      res = await fetch(this.texts.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch {
      return; // the next poll tries again; the form's own answer is what counts
    }
    if (!res.ok) return; // 404: not started yet (or already finished)
    const state = await res.json();
    this.bar.max = state.total;
    this.bar.value = state.done;
    this.text.textContent = describe(state, this.texts, this.labels);
  }

  async cancel() {
    this.cancelButton.disabled = true;
    this.text.textContent = this.texts.cancelling;
    await fetch(this.texts.url, { method: "DELETE", credentials: "same-origin", headers: withCsrf({}, this.form) }).catch(() => null);
  }
}
