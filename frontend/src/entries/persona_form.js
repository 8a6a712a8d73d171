// The character form (create and edit): the voice Preview button.
import { VoicePreview } from "../characters/voice_preview.js";

const form = document.querySelector("form.persona-form");
if (form) {
  const preview = new VoicePreview(form);
  preview.start();
  window.__voicePreview = preview; // for the browser test and debugging
}
