// A fake signaling server that speaks docs/protocol.md section 2 for one room, and fake
// WebSockets connected to it. Each participant is an identity (an account or a guest session):
// joining again with the same identity within the grace period resumes the seat.
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 3;

/** The client end of a socket: what ws.js sees as a WebSocket. */
export class FakeSocket {
  constructor(room, identity, url) {
    this.room = room;
    this.identity = identity;
    this.url = url;
    this.readyState = CONNECTING;
    this.sent = []; // parsed messages from the client, in order
    this.onopen = this.onmessage = this.onclose = null;
    room.sockets.push(this);
    setImmediate(() => {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      if (this.onopen) this.onopen({});
    });
  }

  send(text) {
    if (this.readyState !== OPEN) throw new Error("InvalidStateError: not open");
    const msg = JSON.parse(text);
    this.sent.push(msg);
    this.room.receive(this, msg);
  }

  /** The client closes. */
  close(code = 1000) {
    this._closed(code, true);
  }

  /** The network drops the connection (no close frame from the client). */
  drop() {
    this._closed(1006, false);
  }

  /** The server closes with `code`. */
  serverClose(code) {
    this._closed(code, false);
  }

  _closed(code, byClient) {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.room.disconnected(this, byClient);
    setImmediate(() => {
      if (this.onclose) this.onclose({ code });
    });
  }

  deliver(msg) {
    if (this.readyState !== OPEN) return;
    setImmediate(() => {
      if (this.readyState === OPEN && this.onmessage) this.onmessage({ data: JSON.stringify(msg) });
    });
  }
}

export class FakeRoom {
  constructor(code = "k7mq3xv9tw") {
    this.code = code;
    this.sockets = [];
    this.seats = []; // {identity, peer_id, seat, name, socket|null}
    this.log = []; // [identity, msg] everything the server received
    this.nextPeer = 1;
  }

  /** A createSocket factory for `identity` (what a browser with that session would open). */
  socketsFor(identity) {
    return (url) => new FakeSocket(this, identity, url);
  }

  seatOf(socket) {
    return this.seats.find((s) => s.socket === socket) || null;
  }

  other(seat) {
    return this.seats.find((s) => s !== seat) || null;
  }

  error(socket, code, message = code, details = {}) {
    socket.deliver({ type: "error", code, message, details });
  }

  receive(socket, msg) {
    this.log.push([socket.identity, msg]);
    if (msg.type === "ping") return socket.deliver({ type: "pong", t: msg.t });
    const seat = this.seatOf(socket);
    if (msg.type === "join") return seat ? this.error(socket, "already_joined") : this.join(socket);
    if (!seat) return this.error(socket, "not_joined");
    const other = this.other(seat);
    const otherOn = other && other.socket;
    switch (msg.type) {
      case "offer":
      case "answer":
        if (typeof msg.sdp !== "string") return this.error(socket, "invalid_message", "missing", { sdp: "required" });
        if (!otherOn) return this.error(socket, "peer_not_connected");
        return other.socket.deliver({ type: msg.type, sdp: msg.sdp, from: seat.peer_id });
      case "candidate":
        if (!otherOn) return this.error(socket, "peer_not_connected");
        return other.socket.deliver({ type: "candidate", candidate: msg.candidate, from: seat.peer_id });
      case "avatar":
        if (otherOn) {
          // Like rooms/signaling.py: `frames` (frame versions) is relayed when given.
          const out = { type: "avatar", avatar: msg.avatar, from: seat.peer_id };
          if (Array.isArray(msg.frames)) out.frames = [...new Set(msg.frames)].sort((a, b) => a - b);
          other.socket.deliver(out);
        }
        return undefined; // dropped while nobody else is connected
      case "hangup":
        this.seats = this.seats.filter((s) => s !== seat);
        seat.socket = null;
        if (otherOn) other.socket.deliver({ type: "peer_left", peer_id: seat.peer_id, reason: "hangup" });
        return undefined;
      default:
        return this.error(socket, "unknown_type");
    }
  }

  join(socket) {
    let seat = this.seats.find((s) => s.identity === socket.identity);
    let resumed = false;
    if (seat && seat.socket) {
      // Same identity, second socket: the seat moves, the old socket is replaced.
      const old = seat.socket;
      this.error(old, "replaced");
      setImmediate(() => old.serverClose(4412));
      seat.socket = socket;
      resumed = true;
    } else if (seat) {
      seat.socket = socket;
      resumed = true;
    } else {
      if (this.seats.length >= 2) {
        this.error(socket, "room_full");
        setImmediate(() => socket.serverClose(4409));
        return;
      }
      const used = new Set(this.seats.map((s) => s.seat));
      seat = { identity: socket.identity, peer_id: `p_${this.nextPeer++}`, seat: used.has(0) ? 1 : 0, name: socket.identity, socket };
      this.seats.push(seat);
    }
    const other = this.other(seat);
    socket.deliver({
      type: "joined", room: this.code, peer_id: seat.peer_id, seat: seat.seat, role: "member", name: seat.name,
      resumed, initiator: Boolean(other && other.socket), polite: seat.seat === 1,
      peers: this.seats.map((s) => ({ peer_id: s.peer_id, name: s.name, role: "member", connected: Boolean(s.socket) })),
      ice_servers: [{ urls: ["stun:stun.example.org:3478"] }], grace_s: 30,
    });
    if (other && other.socket) other.socket.deliver({ type: "peer_joined", peer: { peer_id: seat.peer_id, name: seat.name, role: "member" }, resumed });
  }

  disconnected(socket, byClient) {
    const seat = this.seatOf(socket);
    if (!seat) return;
    seat.socket = null;
    const other = this.other(seat);
    if (other && other.socket) other.socket.deliver({ type: "peer_disconnected", peer_id: seat.peer_id, grace_s: 30 });
    void byClient; // a client close without hangup holds the seat like a drop does
  }

  /** The grace period of a disconnected participant ends. */
  expire(identity) {
    const seat = this.seats.find((s) => s.identity === identity && !s.socket);
    if (!seat) return;
    this.seats = this.seats.filter((s) => s !== seat);
    const other = this.other(seat);
    if (other && other.socket) other.socket.deliver({ type: "peer_left", peer_id: seat.peer_id, reason: "timeout" });
  }

  /** The owner closes the room. */
  close() {
    for (const s of this.seats) {
      if (!s.socket) continue;
      const sock = s.socket;
      sock.deliver({ type: "room_closed", reason: "closed" });
      setImmediate(() => setImmediate(() => sock.serverClose(4410)));
    }
  }

  /** Messages of `type` the server received from `identity`. */
  received(identity, type) {
    return this.log.filter(([who, m]) => who === identity && m.type === type).map(([, m]) => m);
  }
}
