// Viseme timeline of the character's voice (docs/voice-protocol.md, `visemes` events): clauses
// scheduled on the audio playout clock, queried every animation frame. Pure logic (no DOM) so
// Node tests drive it with a fake clock.
export const VISEMES = ["aa", "ih", "ou", "ee", "oh"];

export class VisemeTimeline {
  /** @param {{playoutDelayMs?: number}} opts  delay between an event's arrival and its audio being heard */
  constructor({ playoutDelayMs = 100 } = {}) {
    this.playoutDelayMs = playoutDelayMs;
    this.clauses = []; // {start, end, visemes}
  }

  /** A `visemes` event arrived at `now` (ms): its audio starts playing after the playout delay,
   * or right after the clause before it when that one is still playing. */
  add(event, now) {
    const last = this.clauses[this.clauses.length - 1];
    const start = Math.max(now + this.playoutDelayMs, last ? last.end : 0);
    this.clauses.push({ start, end: start + (event.duration_ms || 0), visemes: event.visemes || [] });
  }

  /** Stop now (interrupt, mute): the mouth closes. */
  clear() {
    this.clauses = [];
  }

  speakingAt(now) {
    return this.clauses.some((c) => now >= c.start && now < c.end);
  }

  /** {viseme, weight} at `now`; weight 0 ("silence") between and after clauses. */
  at(now) {
    while (this.clauses.length && this.clauses[0].end <= now) this.clauses.shift();
    const clause = this.clauses[0];
    if (!clause || now < clause.start) return { viseme: "silence", weight: 0 };
    const t = now - clause.start;
    for (const v of clause.visemes) {
      if (t >= v.start_ms && t < v.end_ms) {
        return VISEMES.includes(v.viseme) ? { viseme: v.viseme, weight: v.weight } : { viseme: "silence", weight: 0 };
      }
    }
    return { viseme: "silence", weight: 0 };
  }
}
