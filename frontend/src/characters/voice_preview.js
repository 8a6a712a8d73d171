// The character form's voice Preview: speaks a sample sentence with the chosen voice and speed
// through POST /api/tts and plays the returned audio. Errors (an unknown voice, a language the
// voice does not speak, an engine that is down) come back in our error family and are shown as
// text.
import { withCsrf } from "../csrf.js";

/** The /api/tts request body for the form's current choice. */
export function previewRequest({ text, voiceId, speed, language }) {
  const body = { text, language, speed: Number.isFinite(speed) ? Math.min(2, Math.max(0.5, speed)) : 1 };
  body.voice_id = voiceId || "default";
  return body;
}

export class VoicePreview {
  constructor(form, { fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
    this.form = form;
    this.fetch = fetchImpl;
    this.button = form.querySelector("[data-voice-preview]");
    this.status = form.querySelector("[data-voice-preview-status]");
    this.audio = form.querySelector("[data-voice-preview-audio]");
    this.select = form.querySelector("[data-voice-select]");
    this.speed = form.querySelector("[data-voice-speed]");
    this.language = form.querySelector("select[name=language]");
    this.lastUrl = "";
  }

  start() {
    if (!this.button) return;
    this.button.addEventListener("click", () => this.play());
  }

  async play() {
    const body = previewRequest({
      text: this.button.dataset.previewText,
      voiceId: this.select ? this.select.value : "",
      speed: this.speed ? parseFloat(this.speed.value) : 1,
      language: this.language ? this.language.value : "en",
    });
    this.status.textContent = this.button.dataset.previewBusy || "";
    this.button.disabled = true;
    try {
      const res = await this.fetch("/api/tts", {
        method: "POST",
        credentials: "same-origin",
        headers: withCsrf({ "Content-Type": "application/json", Accept: "application/json" }, this.form),
        body: JSON.stringify(body),
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) {
        this.status.textContent = data.message || String(res.status);
        return;
      }
      this.lastUrl = data.audio_url;
      this.audio.src = data.audio_url;
      this.status.textContent = "";
      await this.audio.play().catch(() => {});
    } finally {
      this.button.disabled = false;
    }
  }
}
