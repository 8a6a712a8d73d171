// The character form (create and edit): the voice Preview button; the wizard's pages: the
// generation's progress and its cancel button.
import { VoicePreview } from "../characters/voice_preview.js";
import { WizardProgress } from "../characters/wizard_progress.js";

const form = document.querySelector("form.persona-form");
if (form) {
  const preview = new VoicePreview(form);
  preview.start();
  window.__voicePreview = preview; // for the browser test and debugging
}

const progressBox = document.querySelector("[data-wizard-progress]");
if (progressBox) {
  const progress = new WizardProgress(progressBox);
  progress.start();
  window.__wizardProgress = progress;
}
