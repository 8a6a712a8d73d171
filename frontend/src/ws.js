// The one reconnecting WebSocket of the front end (call signaling, chat, generation progress).
// A dropped socket is opened again after an exponential backoff with jitter (so that a server
// restart is not met by every tab at the same instant); close codes after which reconnecting
// cannot help (not signed in, not found, replaced...) end it for good.
//
// No DOM and no globals at call time: the socket constructor and the timers are injectable, so
// that node tests drive it with fakes. Messages are JSON objects both ways.

/** ws:// or wss:// URL for a path on the page's own host. */
export function wsUrl(path, loc = globalThis.location) {
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${loc.host}${path}`;
}

/**
 * Delay before reconnection attempt `attempt` (1 = the first retry): baseMs * factor^(attempt-1),
 * capped at maxMs, then reduced by up to `jitter` of itself (never above the cap, never below
 * (1 - jitter) of it). `random` returns a number in [0, 1).
 */
export function backoffDelay(attempt, { baseMs = 500, factor = 2, maxMs = 15000, jitter = 0.2 } = {}, random = Math.random) {
  const n = Math.max(1, attempt);
  const capped = Math.min(maxMs, baseMs * factor ** (n - 1));
  return Math.round(capped * (1 - jitter * random()));
}

const OPEN = 1;

export class ReconnectingSocket {
  /**
   * @param {string} url
   * @param {{
   *   protocols?: string[],
   *   backoff?: {baseMs?:number, factor?:number, maxMs?:number, jitter?:number},
   *   terminalCodes?: Iterable<number>,   close codes that end reconnecting
   *   onOpen?: (info:{attempt:number}) => void,          attempt: retries it took (0 = first try)
   *   onMessage?: (msg:object) => void,                  parsed JSON objects only
   *   onClose?: (info:{code:number, terminal:boolean, byUs:boolean, attempt:number, delay:number|null, error?:Error}) => void,
 *     delay: ms until the next attempt (null when none follows)
   *   onConnecting?: (info:{attempt:number}) => void,
   *   createSocket?: (url:string, protocols?:string[]) => WebSocket,
   *   timers?: {setTimeout:Function, clearTimeout:Function},
   *   random?: () => number,
   * }} opts
   */
  constructor(url, opts = {}) {
    this.url = url;
    this.protocols = opts.protocols;
    this.backoff = opts.backoff || {};
    this.terminalCodes = new Set(opts.terminalCodes || []);
    this.onOpen = opts.onOpen || (() => {});
    this.onMessage = opts.onMessage || (() => {});
    this.onClose = opts.onClose || (() => {});
    this.onConnecting = opts.onConnecting || (() => {});
    this.createSocket = opts.createSocket || ((u, p) => (p ? new WebSocket(u, p) : new WebSocket(u)));
    this.timers = opts.timers || { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (id) => clearTimeout(id) };
    this.random = opts.random || Math.random;
    this.ws = null;
    this.attempt = 0; // failed connections since the last successful open
    this.stopped = false;
    this._retryTimer = null;
  }

  get isOpen() {
    return Boolean(this.ws && this.ws.readyState === OPEN);
  }

  /** A socket is connecting or open (false between a drop and the next attempt, and after close). */
  get active() {
    return Boolean(this.ws);
  }

  /**
   * Open the socket (again). If the socket can't even be created (bad URL, WebSockets blocked)
   * it stops for good and reports onClose with `error: true`; returns false then.
   */
  connect() {
    this.stopped = false;
    this._clearRetry();
    const old = this.ws;
    this.ws = null;
    if (old) old.close(1000); // replaced: its close event no longer counts (see onclose)
    this.onConnecting({ attempt: this.attempt });
    let ws;
    try {
      ws = this.createSocket(this.url, this.protocols);
    } catch (err) {
      this.ws = null;
      this.stopped = true;
      this.onClose({ code: 1006, terminal: true, byUs: false, attempt: this.attempt, delay: null, error: err });
      return false;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      const attempt = this.attempt;
      // (a socket that opened resets the backoff)
      this.attempt = 0;
      this.onOpen({ attempt });
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg && typeof msg === "object" && !Array.isArray(msg)) this.onMessage(msg);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return; // an old socket we already replaced
      this.ws = null;
      const code = e && typeof e.code === "number" ? e.code : 1006;
      if (this.stopped) {
        this.onClose({ code, terminal: true, byUs: true, attempt: this.attempt, delay: null });
        return;
      }
      if (this.terminalCodes.has(code)) {
        this.stopped = true;
        this.onClose({ code, terminal: true, byUs: false, attempt: this.attempt, delay: null });
        return;
      }
      this.attempt += 1;
      const delay = backoffDelay(this.attempt, this.backoff, this.random);
      this.onClose({ code, terminal: false, byUs: false, attempt: this.attempt, delay });
      if (this.stopped) return; // onClose may have stopped us
      this._retryTimer = this.timers.setTimeout(() => {
        this._retryTimer = null;
        if (!this.stopped) this.connect();
      }, delay);
    };
    return true;
  }

  /** Send a JSON object; false when the socket is not open (nothing is queued). */
  send(msg) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Close for good (no reconnection). */
  close(code = 1000) {
    this.stopped = true;
    this._clearRetry();
    if (this.ws) this.ws.close(code);
  }

  _clearRetry() {
    if (this._retryTimer !== null) this.timers.clearTimeout(this._retryTimer);
    this._retryTimer = null;
  }
}
