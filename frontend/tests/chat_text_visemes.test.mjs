import assert from "node:assert/strict";
import { test } from "node:test";
import { FAST_MS, MAX_QUEUED, SLOW_MS, TextVisemes, textShapes } from "../src/chat/text_visemes.js";

test("Hangul syllables give their medial vowel, Latin text one shape per vowel run", () => {
  assert.deepEqual(textShapes("안녕하세요"), ["aa", "oh", "aa", "ee", "oh"]);
  assert.deepEqual(textShapes("무지개"), ["ou", "ih", "ee"]);
  assert.deepEqual(textShapes("Hello, moon"), ["ee", "oh", "silence", "oh"]);
  assert.deepEqual(textShapes("  ...  "), []); // no leading pause, pauses never repeat
});

test("the mouth opens and closes once per syllable and rests when the text is read", () => {
  const tv = new TextVisemes();
  tv.feed("ma", 0);
  assert.equal(tv.active, true);
  assert.equal(tv.at(0).weight, 0); // closed at the start of the syllable...
  const mid = tv.at(SLOW_MS / 2);
  assert.equal(mid.viseme, "aa");
  assert.ok(mid.weight > 0.7); // ...open in the middle
  assert.deepEqual(tv.at(SLOW_MS + 1), { viseme: "silence", weight: 0 });
  assert.equal(tv.active, false);
});

test("a backlog is read faster, and a long one is cut so the mouth never trails far behind", () => {
  const tv = new TextVisemes();
  tv.feed("ba".repeat(30), 0);
  assert.ok(tv.queue.length <= MAX_QUEUED);
  assert.equal(tv.current.duration, FAST_MS); // behind: fast syllables
  // Everything queued is read within about a second of the last token.
  let t = 0;
  while (tv.active && t < 5000) {
    tv.at(t);
    t += 10;
  }
  assert.ok(t <= (MAX_QUEUED + 1) * SLOW_MS, `still talking at ${t} ms`);
});

test("clear closes the mouth at once (the reply ended or was cut)", () => {
  const tv = new TextVisemes();
  tv.feed("안녕하세요", 0);
  tv.clear();
  assert.deepEqual(tv.at(50), { viseme: "silence", weight: 0 });
  assert.equal(tv.active, false);
});
