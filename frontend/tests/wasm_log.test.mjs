// tracking/wasm_log.js: MediaPipe's INFO lines go to console.info; real errors stay errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { infoLinesAsInfo } from "../src/tracking/wasm_log.js";

test("INFO lines from the WebAssembly's stderr are info, anything else is still an error", () => {
  const seen = [];
  const con = { error: (...a) => seen.push(["error", ...a]), info: (...a) => seen.push(["info", ...a]) };
  infoLinesAsInfo(con);
  con.error("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.");
  con.error("E0000 00:00:1 calculator_graph.cc:887] INVALID_ARGUMENT");
  con.error(new Error("INFO: not a log line"));
  con.error("info: lower case is not MediaPipe's");
  assert.deepEqual(seen.map(([kind, first]) => [kind, String(first)]), [
    ["info", "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."],
    ["error", "E0000 00:00:1 calculator_graph.cc:887] INVALID_ARGUMENT"],
    ["error", "Error: INFO: not a log line"],
    ["error", "info: lower case is not MediaPipe's"],
  ]);
});
