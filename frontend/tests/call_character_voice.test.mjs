// The status line of a call with a character: states from the "voice" channel's events, the
// caption of what it heard (as text), errors passed on.
import { test } from "node:test";
import assert from "node:assert/strict";

import { CharacterVoiceStatus } from "../src/call/character_voice.js";

const el = () => ({ hidden: true, textContent: "", dataset: {} });
const strings = { joining: "Joining", listening: "Listening", thinking: "Thinking", speaking: "Speaking", you_said: "It heard:" };

function make() {
  const errors = [];
  const status = el();
  const caption = el();
  const voice = new CharacterVoiceStatus({ status, caption, strings, showError: (code, text) => errors.push([code, text]) });
  return { voice, status, caption, errors };
}

test("the channel opening means the character listens; a transcript, thinking; speech, speaking", () => {
  const { voice, status, caption } = make();
  voice.expect();
  assert.equal(status.textContent, "Joining");
  assert.equal(status.hidden, false);
  const ch = { readyState: "connecting" };
  voice.attach(ch);
  assert.equal(voice.state, "joining");
  ch.onopen();
  assert.equal(status.dataset.state, "listening");
  ch.onmessage({ data: JSON.stringify({ type: "final_transcript", text: "What is your <b>favorite</b> color?" }) });
  assert.equal(status.textContent, "Thinking");
  assert.equal(caption.textContent, "It heard: What is your <b>favorite</b> color?"); // text, never markup
  assert.equal(caption.hidden, false);
  ch.onmessage({ data: JSON.stringify({ type: "bot_speaking", speaking: true, emotion: "happy" }) });
  assert.equal(status.textContent, "Speaking");
  ch.onmessage({ data: JSON.stringify({ type: "bot_speaking", speaking: false }) });
  assert.equal(status.textContent, "Listening");
});

test("an interruption goes back to listening; an error is shown", () => {
  const { voice, errors } = make();
  voice.handle(JSON.stringify({ type: "bot_speaking", speaking: true }));
  voice.handle(JSON.stringify({ type: "interrupt", heard: "My" }));
  assert.equal(voice.state, "listening");
  voice.handle(JSON.stringify({ type: "error", code: "stt_unavailable", message: "Speech recognition is down." }));
  assert.deepEqual(errors, [["stt_unavailable", "Speech recognition is down."]]);
});

test("garbage is ignored", () => {
  const { voice } = make();
  voice.handle("not json");
  voice.handle(JSON.stringify([1, 2]));
  voice.handle(new ArrayBuffer(4));
  voice.handle(JSON.stringify({ type: "final_transcript", text: 42 }));
  assert.equal(voice.state, "thinking");
  assert.equal(voice.events, 2);
});
