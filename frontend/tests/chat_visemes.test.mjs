import assert from "node:assert/strict";
import { test } from "node:test";
import { VisemeTimeline } from "../src/chat/visemes.js";

const clause = (duration_ms, visemes) => ({ type: "visemes", duration_ms, visemes });

test("the mouth follows the clause on the playout clock and rests in silence", () => {
  const tl = new VisemeTimeline({ playoutDelayMs: 100 });
  tl.add(clause(300, [
    { start_ms: 0, end_ms: 100, viseme: "aa", weight: 1 },
    { start_ms: 100, end_ms: 200, viseme: "silence", weight: 0 },
    { start_ms: 200, end_ms: 300, viseme: "oh", weight: 0.35 },
  ]), 1000);
  assert.deepEqual(tl.at(1050), { viseme: "silence", weight: 0 }); // not heard yet
  assert.deepEqual(tl.at(1150), { viseme: "aa", weight: 1 });
  assert.deepEqual(tl.at(1250), { viseme: "silence", weight: 0 });
  assert.deepEqual(tl.at(1350), { viseme: "oh", weight: 0.35 });
  assert.equal(tl.speakingAt(1350), true);
  assert.deepEqual(tl.at(1450), { viseme: "silence", weight: 0 });
  assert.equal(tl.speakingAt(1450), false);
});

test("a clause that arrives while another plays is queued after it", () => {
  const tl = new VisemeTimeline({ playoutDelayMs: 0 });
  tl.add(clause(200, [{ start_ms: 0, end_ms: 200, viseme: "ee", weight: 1 }]), 0);
  tl.add(clause(100, [{ start_ms: 0, end_ms: 100, viseme: "ou", weight: 1 }]), 50);
  assert.equal(tl.at(150).viseme, "ee");
  assert.equal(tl.at(250).viseme, "ou");
});

test("an interrupt closes the mouth at once", () => {
  const tl = new VisemeTimeline({ playoutDelayMs: 0 });
  tl.add(clause(1000, [{ start_ms: 0, end_ms: 1000, viseme: "aa", weight: 1 }]), 0);
  assert.equal(tl.at(10).weight, 1);
  tl.clear();
  assert.deepEqual(tl.at(20), { viseme: "silence", weight: 0 });
});

test("a clause with an RTP timestamp follows the audio being played, not the clock", () => {
  const tl = new VisemeTimeline({ playoutDelayMs: 100 });
  const rtp = 4294967000; // wraps around during the clause
  tl.add({ ...clause(300, [
    { start_ms: 0, end_ms: 100, viseme: "aa", weight: 1 },
    { start_ms: 100, end_ms: 300, viseme: "ou", weight: 0.5 },
  ]), rtp_timestamp: rtp }, 0);
  // Two seconds after arrival (the jitter buffer held the audio) it has not started yet.
  assert.deepEqual(tl.at(2000, (rtp - 480) >>> 0), { viseme: "silence", weight: 0 });
  assert.deepEqual(tl.at(2050, (rtp + 48 * 50) >>> 0), { viseme: "aa", weight: 1 });
  assert.deepEqual(tl.at(2150, (rtp + 48 * 150) >>> 0), { viseme: "ou", weight: 0.5 });
  // The audio stalls: the mouth stays where the audio is.
  assert.deepEqual(tl.at(2900, (rtp + 48 * 150) >>> 0), { viseme: "ou", weight: 0.5 });
  assert.deepEqual(tl.at(3000, (rtp + 48 * 300) >>> 0), { viseme: "silence", weight: 0 });
  assert.equal(tl.clauses.length, 0);
});
