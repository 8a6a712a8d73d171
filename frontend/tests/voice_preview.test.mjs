import assert from "node:assert/strict";
import { test } from "node:test";
import { previewRequest } from "../src/characters/voice_preview.js";

test("the preview asks /api/tts for the chosen voice, language and a speed within 0.5-2.0", () => {
  assert.deepEqual(previewRequest({ text: "Hi", voiceId: "en-joe", speed: 1.3, language: "en" }),
    { text: "Hi", voice_id: "en-joe", speed: 1.3, language: "en" });
  assert.equal(previewRequest({ text: "Hi", voiceId: "", speed: 1, language: "ko" }).voice_id, "default");
  assert.equal(previewRequest({ text: "Hi", voiceId: "x", speed: 9, language: "en" }).speed, 2);
  assert.equal(previewRequest({ text: "Hi", voiceId: "x", speed: NaN, language: "en" }).speed, 1);
});
