// Deterministic timers for node tests: nothing fires until advance(ms).
export class FakeTimers {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    this.pending = new Map(); // id -> {at, fn, every}
  }

  setTimeout = (fn, ms = 0) => this._add(fn, ms, null);
  setInterval = (fn, ms) => this._add(fn, ms, ms);
  clearTimeout = (id) => this.pending.delete(id);
  clearInterval = (id) => this.pending.delete(id);

  _add(fn, ms, every) {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + ms, fn, every, ms });
    return id;
  }

  /** Delays (ms) of the one-shot timers waiting now. */
  timeouts() {
    return [...this.pending.values()].filter((t) => t.every === null).map((t) => t.ms);
  }

  /** Run everything due within `ms`, in time order. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let next = null;
      for (const [id, t] of this.pending) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      const [id, t] = next;
      this.now = t.at;
      if (t.every === null) this.pending.delete(id);
      else t.at += t.every;
      t.fn();
    }
    this.now = end;
  }
}

/** Let promise chains and queued tasks run. */
export async function settle(rounds = 20) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
