// Pure helpers of the generation pages (run with node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileProblem, ACCEPTED_TYPES } from "../src/generation/upload.js";
import { clampCrop } from "../src/generation/crop.js";
import { formatMs, retryLabel } from "../src/generation/job.js";

test("upload accepts only photos under the size limit", () => {
  assert.deepEqual(ACCEPTED_TYPES, ["image/jpeg", "image/png", "image/webp"]);
  assert.equal(fileProblem({ type: "image/png", size: 10 }, 100), null);
  assert.equal(fileProblem({ type: "image/gif", size: 10 }, 100), "type");
  assert.equal(fileProblem({ type: "image/jpeg", size: 101 }, 100), "size");
  assert.equal(fileProblem(undefined, 100), "type");
});

test("crop stays inside the photo and a sensible size", () => {
  assert.deepEqual(clampCrop({ x: -1, y: 2, size: 5 }), { x: 0, y: 1, size: 1.2 });
  assert.deepEqual(clampCrop({ x: 0.5, y: 0.4, size: 0.01 }), { x: 0.5, y: 0.4, size: 0.1 });
});

test("stage times use the translated template", () => {
  assert.equal(formatMs("%(ms)s ms", 42), "42 ms");
  assert.equal(formatMs("%(ms)s 밀리초", 7), "7 밀리초");
});

test("a cancelled job is offered to continue, not to retry a failed step", () => {
  const labels = { failed: "Retry from the failed step", cancelled: "Continue from where it stopped" };
  assert.equal(retryLabel(labels, "cancelled"), "Continue from where it stopped");
  assert.equal(retryLabel(labels, "failed"), "Retry from the failed step");
  assert.equal(retryLabel(undefined, "failed"), "");
});
