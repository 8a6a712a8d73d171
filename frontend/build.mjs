// Bundles every frontend/src/entries/*.js into static/dist/ (ES modules) and copies the
// MediaPipe WASM runtime next to them. Nothing is loaded from a CDN.
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const out = join(root, "static", "dist");
const entriesDir = join(root, "frontend", "src", "entries");
mkdirSync(out, { recursive: true });

const entryPoints = existsSync(entriesDir)
  ? readdirSync(entriesDir).filter((f) => f.endsWith(".js")).map((f) => join(entriesDir, f))
  : [];

if (entryPoints.length) {
  await build({
    entryPoints,
    outdir: out,
    bundle: true,
    format: "esm",
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    minify: true,
    sourcemap: true,
    target: ["es2022"],
    logLevel: "info",
  });
}

// Classic workers (frontend/src/workers/): the legacy MediaPipe solutions load their wasm with
// importScripts, which module workers do not have.
const workersDir = join(root, "frontend", "src", "workers");
const workerEntries = existsSync(workersDir)
  ? readdirSync(workersDir).filter((f) => f.endsWith(".js")).map((f) => join(workersDir, f))
  : [];
if (workerEntries.length) {
  await build({
    entryPoints: workerEntries,
    outdir: out,
    bundle: true,
    format: "iife",
    minify: true,
    sourcemap: true,
    target: ["es2022"],
    logLevel: "info",
  });
}

const wasm = join(root, "node_modules", "@mediapipe", "tasks-vision", "wasm");
if (existsSync(wasm)) cpSync(wasm, join(out, "mediapipe"), { recursive: true });
// Legacy pose and hands solutions (models in the packages, Apache-2.0): the lite models only,
// which the body worker asks for (modelComplexity 0).
for (const pkg of ["pose", "hands"]) {
  const src = join(root, "node_modules", "@mediapipe", pkg);
  if (!existsSync(src)) continue;
  cpSync(src, join(out, "mediapipe-legacy", pkg), {
    recursive: true,
    filter: (path) => !/_(full|heavy)\.tflite$/.test(path),
  });
}

// Silero VAD for instant barge-in (chat/browser_vad.js): vad-web's AudioWorklet and v5 model,
// and onnxruntime-web's plain (non-threaded-JSEP) WebAssembly build, the one the wasm entry loads.
const vadOut = join(out, "vad");
mkdirSync(vadOut, { recursive: true });
const vadDist = join(root, "node_modules", "@ricky0123", "vad-web", "dist");
const ortDist = join(root, "node_modules", "onnxruntime-web", "dist");
for (const [dir, file] of [
  [vadDist, "vad.worklet.bundle.min.js"],
  [vadDist, "silero_vad_v5.onnx"],
  [ortDist, "ort-wasm-simd-threaded.wasm"],
  [ortDist, "ort-wasm-simd-threaded.mjs"],
]) {
  if (existsSync(join(dir, file))) cpSync(join(dir, file), join(vadOut, file));
}
console.log(`built ${entryPoints.length} entries into static/dist`);
