import assert from "node:assert/strict";
import { test } from "node:test";
import { describe, fill } from "../src/characters/wizard_progress.js";

const texts = {
  waiting: "Asking the model…",
  writing: "Writing “{field}” ({done} of {total} fields done)",
  retry: "Asking again (try {attempt}).",
  cancelling: "Cancelling…",
};

test("the line names the field being written in the page's language", () => {
  const state = { field: "speech_style", done: 10, total: 21, attempt: 1, cancelled: false };
  assert.equal(describe(state, texts, { speech_style: "말투" }), "Writing “말투” (10 of 21 fields done)");
  assert.equal(describe(state, texts, {}), "Writing “speech_style” (10 of 21 fields done)");
});

test("before the first field, after a refused answer, and while cancelling", () => {
  assert.equal(describe({ field: null, done: 0, total: 21, attempt: 1, cancelled: false }, texts, {}), texts.waiting);
  assert.equal(describe({ field: null, done: 0, total: 21, attempt: 2, cancelled: false }, texts, {}), "Asking again (try 2).");
  assert.equal(describe({ field: "age", done: 2, total: 21, attempt: 1, cancelled: true }, texts, {}), texts.cancelling);
});

test("fill leaves unknown placeholders empty and never evaluates anything", () => {
  assert.equal(fill("{a}-{b}-{constructor}", { a: "<b>1</b>" }), "<b>1</b>--");
});
