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

const wasm = join(root, "node_modules", "@mediapipe", "tasks-vision", "wasm");
if (existsSync(wasm)) cpSync(wasm, join(out, "mediapipe"), { recursive: true });
console.log(`built ${entryPoints.length} entries into static/dist`);
