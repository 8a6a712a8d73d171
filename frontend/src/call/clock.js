// Clock offset between the two browsers, NTP style, over the reliable "control" DataChannel
// (the "params" channel is reserved for version-1 frames). Each ping carries our send time t0;
// the other side answers with its clock t1; at receive time t3:
//   rtt = t3 - t0, offset (their clock - ours) ~ t1 - (t0 + t3) / 2
// The sample with the smallest rtt among recent ones is the most trustworthy.

export const nowMs = () => performance.timeOrigin + performance.now();

export class ClockSync {
  constructor(send) {
    this.send = send; // (obj) => void, sends JSON on the control channel
    this.samples = [];
    this.offset = 0;
    this.rtt = null;
    this.synced = false;
    this._id = 0;
    this._timer = 0;
  }

  /** A burst of pings right away (one per 100 ms), then one every 2 s. */
  start() {
    this.stop();
    let burst = 10;
    const tick = () => {
      this.ping();
      this._timer = setTimeout(tick, burst-- > 0 ? 100 : 2000);
    };
    tick();
  }

  stop() {
    clearTimeout(this._timer);
  }

  ping() {
    this.send({ t: "ping", id: ++this._id, t0: nowMs() });
  }

  /** Handle a control message; returns true when it was ours. */
  handle(msg) {
    if (msg.t === "ping") {
      this.send({ t: "pong", id: msg.id, t0: msg.t0, t1: nowMs() });
      return true;
    }
    if (msg.t === "pong" && typeof msg.t0 === "number" && typeof msg.t1 === "number") {
      const t3 = nowMs();
      const rtt = t3 - msg.t0;
      if (rtt < 0 || rtt > 10000) return true;
      this.samples.push({ rtt, offset: msg.t1 - (msg.t0 + t3) / 2 });
      if (this.samples.length > 16) this.samples.shift();
      const best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
      this.offset = best.offset;
      this.rtt = best.rtt;
      this.synced = true;
      return true;
    }
    return false;
  }

  /**
   * Age in ms of a remote timestamp (remote clock, mod 2^32) at local time `localMs`.
   * Without a sync (e.g. the practice partner, which sends our own frames back) the offset is 0.
   */
  ageOf(remoteTs, localMs = nowMs()) {
    const remoteNow = localMs + this.offset;
    let d = (Math.floor(remoteNow) - remoteTs) % 4294967296;
    if (d < 0) d += 4294967296;
    if (d > 2147483648) d -= 4294967296; // timestamps slightly in the future (clock jitter)
    return d;
  }
}
