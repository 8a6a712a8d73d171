// Rate caps that keep their phase: shared by the avatar draw loop (view.js) and the face tracker's
// frame skipping (tracking/face_worker.js). No DOM, so a worker can import it.

/**
 * Pacing under a rate cap: null when an event at `t` would come too early (before `due`, with
 * 2 ms of slack for animation-frame or camera jitter), else the time the next one is due. The
 * schedule keeps its phase, so a 30 fps cap on a 60 Hz display draws every other frame, and a
 * 24 fps cap on a 30 fps camera takes four frames of five (not every other one, as "at least
 * 41.7 ms since the last" would); after a pause or a long event it starts over from `t`.
 */
export function nextDue(t, due, period) {
  if (t < due - 2) return null;
  return t - due > period ? t + period : due + period;
}
