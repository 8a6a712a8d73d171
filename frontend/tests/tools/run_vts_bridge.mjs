// Drives the real VTS bridge and pose driver against a VTube Studio at argv[2] for argv[3]
// seconds (node --experimental-websocket). Used by tests/live/test_vts_bridge.py and bench.live.
// Prints one JSON line of what happened at the end.
import { PoseDriver } from "../../src/live/pose.js";
import { VtsBridge } from "../../src/live/vts_bridge.js";

const [url, seconds = "3"] = process.argv.slice(2);
let token = "";
const states = [];
const bridge = new VtsBridge({
  url, storage: { get: () => token, set: (t) => { token = t; } }, injectHz: 10,
  onStatus: (s) => states.push(s), emotionMap: { happy: { vts_hotkey: "Smile", vts_expression: "smile.exp3.json" } },
});
const pose = new PoseDriver({ lerpS: { default: 0.2 } });
const t0 = performance.now();
let last = t0;
const tick = setInterval(() => {
  const now = performance.now();
  bridge.setValues(pose.update(now / 1000, (now - last) / 1000));
  last = now;
}, 33);
bridge.start();
setTimeout(() => {
  pose.setEmotion("happy");
  pose.speak(performance.now() / 1000, [{ t: 0, v: "aa" }, { t: 0.3, v: "silence" }, { t: 0.5, v: "oh" }], 0.8);
  bridge.showEmotion("happy");
}, 1200);
setTimeout(() => {
  clearInterval(tick);
  bridge.stop();
  console.log(JSON.stringify({ states, token: Boolean(token) }));
  process.exit(0);
}, Number(seconds) * 1000);
