// bench/browser_call.py's bare render page: three-vrm (the call's VrmRenderer) alone, drawing the
// avatar the call shows (?vrm=) on a canvas of the call's size (?w=&h=) under the call's draw-rate
// cap for a VRM (?fps=), with the same pacing. Every draw shows a new pose (the head rolls, the
// mouth opens), as every draw of a remote avatar does in the call. Counters on window.__bare.
import { nextDue } from "../../frontend/src/avatar/pacing.js";
import { BS, createParams } from "../../frontend/src/avatar/params.js";
import { VrmRenderer } from "../../frontend/src/avatar/vrm_renderer.js";

const q = new URLSearchParams(location.search);
const bare = { ready: false, error: null, draws: 0, drawMs: 0, softwareGl: null, size: null };
window.__bare = bare;

try {
  const canvas = document.createElement("canvas");
  canvas.style.width = "100%";
  document.body.appendChild(canvas);
  const renderer = new VrmRenderer(canvas);
  renderer.resize(Number(q.get("w")), Number(q.get("h")));
  const res = await fetch(q.get("vrm"));
  await renderer.load(await res.arrayBuffer());
  bare.softwareGl = renderer.softwareGl;
  bare.size = [canvas.width, canvas.height];
  const params = createParams();
  const period = 1000 / Number(q.get("fps"));
  let due = 0;
  const loop = (t) => {
    requestAnimationFrame(loop);
    const next = nextDue(t, due, period);
    if (next === null) return;
    due = next;
    params.rotation[2] = 0.2 * Math.sin(t / 400);
    params.blendshapes[BS.jawOpen] = 0.5 + 0.5 * Math.sin(t / 150);
    const t0 = performance.now();
    renderer.render(params, t);
    bare.drawMs += performance.now() - t0;
    bare.draws += 1;
  };
  requestAnimationFrame(loop);
  bare.ready = true;
} catch (err) {
  bare.error = String(err && err.message || err);
}
