import assert from "node:assert/strict";
import { test } from "node:test";

import { LiveDashboard, describeLog } from "../src/live/dashboard.js";

test("incoming chat lines say whether the message was queued or why it was skipped", () => {
  const queued = describeLog({ type: "log", stage: "incoming", event: { nickname: "Jin", text: "hi", amount: 0 }, accepted: true, queued: 2 });
  assert.deepEqual(queued, { stage: "incoming", text: "Jin: hi → queued, queue 2" });
  const skipped = describeLog({ type: "log", stage: "incoming", event: { nickname: "Bo", text: "x", amount: 1000 }, accepted: false, reason: "too_short", queued: 0 });
  assert.equal(skipped.text, "Bo [1000]: x → skipped (too_short), queue 0");
});

test("replies carry their chat-to-voice latency; other messages map to their stage", () => {
  assert.deepEqual(describeLog({ type: "log", stage: "reply", text: "Hello!", first_audio_ms: 812.4 }), { stage: "reply", text: "said: Hello!", ms: 812.4 });
  assert.equal(describeLog({ type: "intake", state: "connected", detail: "" }).text, "connected");
  assert.equal(describeLog({ type: "vts_status", state: "authenticated" }).stage, "vts");
  assert.equal(describeLog({ type: "status", status: "running" }), null);
  assert.equal(describeLog(null), null);
});

test("log lines are written in the page's language, viewer text left as it is", () => {
  const ko = { queued: "대기열에 추가", skipped: "건너뜀({reason})", queue: "대기 {n}", reply: "말함: {text}",
    chosen: "메시지 {n}개에 답하는 중: {prompt}", reasons: { too_short: "너무 짧음" } };
  const skipped = describeLog({ type: "log", stage: "incoming", event: { nickname: "{n}", text: "{reason}" }, accepted: false, reason: "too_short", queued: 1 }, ko);
  assert.equal(skipped.text, "{n}: {reason} → 건너뜀(너무 짧음), 대기 1");
  assert.equal(describeLog({ type: "log", stage: "chosen", count: 2, prompt: "Jin: hi" }, ko).text, "메시지 2개에 답하는 중: Jin: hi");
  // A sentence the page does not give stays English.
  assert.equal(describeLog({ type: "log", stage: "emergency_stop", cleared: 3 }, ko).text, "emergency stop, 3 queued message(s) dropped");
});

test("the session status and socket state show in the page's language", () => {
  const els = {};
  const doc = { querySelector: (sel) => (els[sel] ||= { textContent: "", hidden: true }) };
  const strings = { connected: "연결됨", statuses: { running: "실행 중", stopped: "중지됨" } };
  const page = new LiveDashboard(doc, { strings });
  page.showStatus({ status: "running", status_detail: "", ai_paused: false });
  assert.equal(els["[data-live-status]"].textContent, "실행 중");
  assert.equal(page.word("connected"), "연결됨");
  assert.equal(page.word("reconnecting", "reconnecting…"), "reconnecting…");  // no word given: English
  // A status the page has no word for still shows, as its code.
  new LiveDashboard(doc, {}).showStatus({ status: "failed" });
  assert.equal(els["[data-live-status]"].textContent, "failed");
});
