// Text-driven visemes: while a reply streams as text (no voice), the mouth "reads along", one
// vowel shape per syllable, so the avatar visibly says what appears. Pure logic, no DOM.
//
// Vowels come from the text as inference/speech/visemes.py reads them for the loudness envelope:
// Hangul by the syllable's medial vowel, Latin letters by spelling. Text streams faster than
// anyone speaks, so the pace adapts: a syllable takes SLOW_MS when little is queued and speeds up
// to FAST_MS as the backlog grows, and the backlog is capped, so the mouth stops at most about a
// second after the last token instead of babbling on.

// Shapes of the 21 Hangul medial vowels in Unicode order (ᅡ ᅢ ᅣ ᅤ ᅥ ᅦ ᅧ ᅨ ᅩ ᅪ ᅫ ᅬ ᅭ ᅮ ᅯ ᅰ ᅱ ᅲ ᅳ ᅴ ᅵ);
// tests/inference/speech/test_visemes.py checks it against inference/speech/visemes.py.
export const HANGUL_MEDIAL_SHAPES = [
  "aa", "ee", "aa", "ee", "oh", "ee", "oh", "ee", "oh", "aa", "ee", "ee", "oh", "ou", "oh", "ee", "ih", "ou", "ou", "ih", "ih",
];
const LETTER_SHAPES = { a: "aa", e: "ee", i: "ih", y: "ih", o: "oh", u: "ou" };
const HANGUL_FIRST = 0xac00;
const HANGUL_LAST = 0xd7a3;
const PAUSE = /[\s.,;:!?…—\-]/u;

export const SLOW_MS = 150; // a syllable when the mouth has caught up with the text
export const FAST_MS = 70; // ...when it lags behind
const CATCH_UP_AFTER = 6; // queued syllables beyond which the pace is FAST_MS
export const MAX_QUEUED = 14; // older syllables are skipped: the mouth never trails by more than ~1 s
const PAUSE_MS = 90; // a space or punctuation: the mouth closes briefly

/** The mouth shapes of `text` in reading order ("silence" for pauses between words). */
export function textShapes(text) {
  const out = [];
  let inVowelRun = false; // "ea", "oo": one syllable, one shape
  for (const ch of text) {
    const code = ch.codePointAt(0);
    const letter = LETTER_SHAPES[ch.toLowerCase()];
    if (code >= HANGUL_FIRST && code <= HANGUL_LAST) {
      out.push(HANGUL_MEDIAL_SHAPES[Math.floor(((code - HANGUL_FIRST) % 588) / 28)]);
    } else if (letter && !inVowelRun) {
      out.push(letter);
    } else if (PAUSE.test(ch) && out.length && out[out.length - 1] !== "silence") {
      out.push("silence");
    }
    inVowelRun = Boolean(letter);
  }
  return out;
}

export class TextVisemes {
  constructor() {
    this.queue = [];
    this.current = null; // {shape, start, duration}
  }

  /** Streamed text arrived at `now` (ms). */
  feed(text, now) {
    this.queue.push(...textShapes(text));
    if (this.queue.length > MAX_QUEUED) this.queue.splice(0, this.queue.length - MAX_QUEUED);
    if (!this.current) this._next(now);
  }

  /** The reply ended or was interrupted: the mouth closes. */
  clear() {
    this.queue = [];
    this.current = null;
  }

  get active() {
    return this.current !== null;
  }

  _next(now) {
    const shape = this.queue.shift();
    if (shape === undefined) {
      this.current = null;
      return;
    }
    const duration = shape === "silence" ? PAUSE_MS : this.queue.length >= CATCH_UP_AFTER ? FAST_MS : SLOW_MS;
    this.current = { shape, start: now, duration };
  }

  /** {viseme, weight} at `now`: each syllable opens and closes the mouth (a sine arch). */
  at(now) {
    while (this.current && now >= this.current.start + this.current.duration) {
      const end = this.current.start + this.current.duration;
      this._next(end);
    }
    const c = this.current;
    if (!c || c.shape === "silence" || now < c.start) return { viseme: "silence", weight: 0 };
    const phase = (now - c.start) / c.duration;
    return { viseme: c.shape, weight: Math.sin(Math.PI * phase) * 0.8 };
  }
}
