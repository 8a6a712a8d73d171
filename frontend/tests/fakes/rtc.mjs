// Fake RTCPeerConnections that behave like the real ones where call/peer.js and call/session.js
// depend on it: offer/answer state (signalingState, local/remoteDescription), trickled ICE
// candidates, addIceCandidate refusing candidates before a remote description, DataChannels
// created by the offerer appearing on the answerer (ondatachannel) and carrying messages both
// ways once connected, connectionState changes, close(). Two connections find each other by the
// SDP text, as two browsers find each other through the real offer and answer.
const registry = new Map(); // sdp -> FakePeerConnection that made it

let nextId = 1;

class FakeTrack {
  constructor(kind) {
    this.kind = kind;
    this.enabled = true;
  }
}

class FakeChannel {
  constructor(pc, label, opts) {
    this.pc = pc;
    this.label = label;
    this.ordered = opts.ordered !== false;
    this.maxRetransmits = opts.maxRetransmits ?? null;
    this.readyState = "connecting";
    this.bufferedAmount = 0;
    this.binaryType = "blob";
    this.remote = null; // the FakeChannel on the other side
    this.sent = [];
    this.onopen = this.onmessage = this.onclose = null;
  }

  send(data) {
    if (this.readyState !== "open") throw new Error("InvalidStateError: channel not open");
    this.sent.push(data);
    const remote = this.remote;
    const payload = typeof data === "string" ? data : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    setImmediate(() => {
      if (remote.readyState === "open" && remote.onmessage) remote.onmessage({ data: payload });
    });
  }

  _open() {
    this.readyState = "open";
    if (this.onopen) this.onopen({});
  }

  close() {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    if (this.onclose) this.onclose({});
    if (this.remote && this.remote.readyState !== "closed") this.remote.close();
  }
}

export class FakePeerConnection {
  static all = [];

  constructor(config = {}) {
    this.id = nextId++;
    this.config = config;
    this.signalingState = "stable";
    this.connectionState = "new";
    this.localDescription = null;
    this.remoteDescription = null;
    this.transceivers = [];
    this.channels = [];
    this.candidates = []; // added with addIceCandidate (null = end of candidates)
    this.other = null;
    this.onicecandidate = this.onconnectionstatechange = this.ontrack = this.ondatachannel = null;
    FakePeerConnection.all.push(this);
  }

  addTransceiver(kind, { direction = "sendrecv" } = {}) {
    const tr = this._transceiver(kind, direction);
    return tr;
  }

  _transceiver(kind, direction) {
    const tr = {
      direction,
      sender: { track: null, async replaceTrack(t) { this.track = t; } },
      receiver: { track: new FakeTrack(kind) },
    };
    this.transceivers.push(tr);
    return tr;
  }

  getTransceivers() {
    return this.transceivers;
  }

  getSenders() {
    return this.transceivers.map((t) => t.sender);
  }

  createDataChannel(label, opts = {}) {
    if (this.signalingState === "closed") throw new Error("InvalidStateError: closed");
    const ch = new FakeChannel(this, label, opts);
    this.channels.push(ch);
    return ch;
  }

  async createOffer() {
    return { type: "offer", sdp: `v=0\r\no=- ${this.id} 2 IN IP4 127.0.0.1\r\na=fake-offer:${this.id}\r\n` };
  }

  async createAnswer() {
    if (this.signalingState !== "have-remote-offer") throw new Error("InvalidStateError: no offer");
    return { type: "answer", sdp: `v=0\r\no=- ${this.id} 2 IN IP4 127.0.0.1\r\na=fake-answer:${this.id}\r\n` };
  }

  async setLocalDescription(desc) {
    await null;
    if (this.signalingState === "closed") throw new Error("InvalidStateError: closed");
    this.localDescription = { type: desc.type, sdp: desc.sdp };
    registry.set(desc.sdp, this);
    this.signalingState = desc.type === "offer" ? "have-local-offer" : "stable";
    // Trickle ICE: one host candidate, then the end-of-candidates null.
    setImmediate(() => {
      if (this.signalingState === "closed" || !this.onicecandidate) return;
      const init = { candidate: `candidate:1 1 udp 2130706431 192.0.2.${this.id} 50000 typ host`, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: `u${this.id}` };
      this.onicecandidate({ candidate: { ...init, toJSON: () => init } });
      this.onicecandidate({ candidate: null });
    });
    if (desc.type === "answer") this._connect();
  }

  async setRemoteDescription(desc) {
    await null;
    if (this.signalingState === "closed") throw new Error("InvalidStateError: closed");
    const from = registry.get(desc.sdp);
    if (!from) throw new Error("OperationError: unknown SDP");
    if (desc.type === "offer") {
      if (this.signalingState !== "stable") throw new Error("InvalidStateError: offer in wrong state");
      this.signalingState = "have-remote-offer";
      // The offer's m-lines: an audio transceiver for each of the offerer's.
      for (const tr of from.transceivers) this._transceiver(tr.receiver.track.kind, "recvonly");
    } else if (this.signalingState !== "have-local-offer") {
      throw new Error("InvalidStateError: answer without offer");
    }
    this.remoteDescription = { type: desc.type, sdp: desc.sdp };
    this.other = from;
    if (desc.type === "answer") {
      this.signalingState = "stable";
      this._connect();
    }
  }

  async addIceCandidate(candidate) {
    if (!this.remoteDescription) throw new Error("InvalidStateError: no remote description");
    this.candidates.push(candidate);
  }

  /** Both descriptions are in on both sides once the offerer has the answer. */
  _connect() {
    const a = this;
    const b = this.other;
    if (!b) return;
    if (a.signalingState !== "stable" || b.signalingState !== "stable") return;
    if (!a.localDescription || !a.remoteDescription || !b.localDescription || !b.remoteDescription) return;
    if (a.connectionState === "connected") return;
    setImmediate(() => {
      if (a.signalingState === "closed" || b.signalingState === "closed") return;
      for (const [x, y] of [[a, b], [b, a]]) {
        for (const ch of x.channels) {
          if (ch.remote) continue;
          const twin = new FakeChannel(y, ch.label, { ordered: ch.ordered, maxRetransmits: ch.maxRetransmits });
          ch.remote = twin;
          twin.remote = ch;
          y.channels.push(twin);
          if (y.ondatachannel) y.ondatachannel({ channel: twin });
        }
      }
      for (const pc of [a, b]) pc._setConnection("connecting");
      for (const pc of [a, b]) pc._setConnection("connected");
      for (const pc of [a, b]) for (const ch of pc.channels) if (ch.readyState === "connecting") ch._open();
      for (const [x, y] of [[a, b], [b, a]]) {
        const audio = y.transceivers.find((t) => t.receiver.track.kind === "audio");
        if (audio && x.ontrack) x.ontrack({ track: audio.receiver.track, streams: [{ id: `stream-${y.id}` }] });
      }
    });
  }

  _setConnection(state) {
    if (this.connectionState === state || this.signalingState === "closed") return;
    this.connectionState = state;
    if (this.onconnectionstatechange) this.onconnectionstatechange({});
  }

  /** Test hook: the network path dies (ICE gives up). */
  fail() {
    this._setConnection("failed");
  }

  async getStats() {
    return new Map();
  }

  close() {
    this.signalingState = "closed";
    this.connectionState = "closed";
    for (const ch of this.channels) ch.close();
  }
}
