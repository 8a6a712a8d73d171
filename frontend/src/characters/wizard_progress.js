// The wizard's generation can take minutes on a small model: while its form is sent, poll
// GET /api/characters/wizard/progress/<id> and show the field being written; "Cancel generation"
// DELETEs it, and the POST comes back with `wizard_cancelled`. Texts come translated in data
// attributes; values are set as text only.
//
// Step 1 sends its form with fetch, so this page stays a live document while the model writes:
// during a plain form POST the page waits on a pending navigation for minutes, and a browser
// driven over DevTools (our Chromium test, automation, assistive tools) cannot act on it until
// the answer commits. Its answer is then shown: the draft page it redirects to, or step 1 again
// with the error (a cancelled generation, a refused sheet) in place of this page's <main>.
// Without scripts the form is a plain POST. The draft page's "Generate again" stays a plain POST
// (polled the same way): its answer is a redirect with a flash message that a fetch would use up.
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
    // On `document`, after site.js's own listener (loaded first by base.html): its data-confirm
    // question may cancel the submission, and it marks the pressed button busy.
    this.onSubmit = (event) => {
      if (event.target !== this.form || event.defaultPrevented) return;
      const button = event.submitter;
      if (button && button.name === "action") {
        // The draft page: only "Generate again" generates; "Save" and "Discard" do not.
        if (button.value === "regenerate") setTimeout(() => this.show(), 0);
        return;
      }
      event.preventDefault();
      this.send(button);
    };
    document.addEventListener("submit", this.onSubmit);
    this.cancelButton.addEventListener("click", () => this.cancel());
  }

  show() {
    this.box.hidden = false;
    this.text.textContent = this.texts.waiting;
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    document.removeEventListener("submit", this.onSubmit);
  }

  /** Step 1's POST by fetch; its answer replaces this page (see the top of this file). */
  async send(button) {
    this.show();
    let res;
    try {
      res = await fetch(this.form.action || window.location.href, {
        method: "POST", body: new FormData(this.form, button || undefined), credentials: "same-origin",
      });
    } catch {
      this.stop();
      this.form.submit(); // no answer (network): the plain POST shows whatever the server says
      return;
    }
    this.stop();
    const page = new DOMParser().parseFromString(await res.text(), "text/html");
    const main = page.querySelector("main");
    if (res.redirected || !main) {
      window.location.assign(res.url); // the draft page (a GET: loading it again changes nothing)
      return;
    }
    document.title = page.title;
    document.querySelector("main").replaceWith(document.adoptNode(main));
    const box = document.querySelector("[data-wizard-progress]");
    if (box) new WizardProgress(box).start();
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
