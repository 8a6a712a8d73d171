// Signaling client for /ws/rooms/<code>/ (docs/protocol.md section 2). Sends `join` on every
// (re)connection; reconnects with backoff when the network drops (the server holds our seat for
// `grace_s`), and stops for good on terminal close codes (auth, room gone, full, replaced).

// Close codes after which reconnecting can't help.
const TERMINAL = new Map([
  [4401, "not_authenticated"],
  [4404, "room_not_found"],
  [4409, "room_full"],
  [4410, "room_closed"],
  [4412, "replaced"],
  [4429, "too_many_errors"],
]);

export class SignalingClient {
  /**
   * @param {string} wsPath e.g. "/ws/rooms/abc/"
   * @param {{onMessage:(msg:object)=>void, onState:(state:string, info?:object)=>void}} handlers
   *   states: "connecting" | "open" | "reconnecting" | "closed" | "failed"
   */
  constructor(wsPath, { onMessage, onState }) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${proto}//${location.host}${wsPath}`;
    this.onMessage = onMessage;
    this.onState = onState;
    this.ws = null;
    this.closedByUs = false;
    this.attempt = 0;
    this.lastError = null;
    this._timer = 0;
    this._ping = 0;
  }

  connect() {
    this.closedByUs = false;
    this.onState(this.attempt ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.onState("open");
      this.send({ type: "join" });
      clearInterval(this._ping);
      // Keeps idle proxies from dropping the socket and notices dead connections.
      this._ping = setInterval(() => this.send({ type: "ping", t: Date.now() }), 15000);
    };
    ws.onmessage = (e) => {
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg && msg.type === "error") this.lastError = msg;
      if (msg && typeof msg === "object") this.onMessage(msg);
    };
    ws.onclose = (e) => {
      clearInterval(this._ping);
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closedByUs) {
        this.onState("closed");
        return;
      }
      const terminal = TERMINAL.get(e.code);
      if (terminal) {
        this.onState("failed", { code: (this.lastError && this.lastError.code) || terminal, closeCode: e.code });
        return;
      }
      this.attempt += 1;
      const delay = Math.min(5000, 400 * 2 ** Math.min(this.attempt - 1, 4));
      this.onState("reconnecting", { attempt: this.attempt, delay });
      this._timer = setTimeout(() => this.connect(), delay);
    };
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  /** Leave: `hangup` tells the other side at once (otherwise it waits for the grace period). */
  close({ hangup = true } = {}) {
    this.closedByUs = true;
    clearTimeout(this._timer);
    clearInterval(this._ping);
    if (this.ws) {
      if (hangup) this.send({ type: "hangup" });
      this.ws.close(1000);
    }
  }
}
