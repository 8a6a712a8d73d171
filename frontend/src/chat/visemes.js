// Viseme timeline of the character's voice (docs/voice-protocol.md, `visemes` events): clauses
// scheduled on the audio playout clock, queried every animation frame. Pure logic (no DOM) so
// Node tests drive it with a fake clock.
export const VISEMES = ["aa", "ih", "ou", "ee", "oh"];
const RTP_PER_MS = 48; // Opus's RTP clock is 48 kHz

/** a - b of two uint32 RTP timestamps, as a signed number (wrap-around safe). */
function rtpDiff(a, b) {
  return (a - b) | 0;
}

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
    const rtp = Number.isInteger(event.rtp_timestamp) ? event.rtp_timestamp >>> 0 : null;
    this.clauses.push({ start, end: start + (event.duration_ms || 0), rtp, duration: event.duration_ms || 0, visemes: event.visemes || [] });
  }

  /** Stop now (interrupt, mute): the mouth closes. */
  clear() {
    this.clauses = [];
  }

  speakingAt(now) {
    return this.clauses.some((c) => now >= c.start && now < c.end);
  }

  /** {viseme, weight} at `now`; weight 0 ("silence") between and after clauses.
   * `playedRtp`: the RTP timestamp the receiver is playing out now, when known. A clause that
   * carries its first sample's `rtp_timestamp` is then placed on the audio itself (exact even
   * when the jitter buffer grows or the audio stalls); otherwise by its arrival plus the delay. */
  at(now, playedRtp = null) {
    const offset = (c) => (c.rtp !== null && playedRtp !== null ? rtpDiff(playedRtp, c.rtp) / RTP_PER_MS : now - c.start);
    while (this.clauses.length && offset(this.clauses[0]) >= this.clauses[0].duration) this.clauses.shift();
    const clause = this.clauses[0];
    if (!clause) return { viseme: "silence", weight: 0 };
    const t = offset(clause);
    if (t < 0) return { viseme: "silence", weight: 0 };
    for (const v of clause.visemes) {
      if (t >= v.start_ms && t < v.end_ms) {
        return VISEMES.includes(v.viseme) ? { viseme: v.viseme, weight: v.weight } : { viseme: "silence", weight: 0 };
      }
    }
    return { viseme: "silence", weight: 0 };
  }
}
