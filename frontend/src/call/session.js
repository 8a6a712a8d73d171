// The call's signaling and peer state machine (docs/protocol.md section 2), without DOM or
// globals: the WebSocket, the RTCPeerConnection and the timers come in as factories, so node
// tests drive it against a fake room server and fake peer connections.
//
// It owns: the signaling socket (join on every (re)connection, ping, terminal close codes), the
// current CallPeer (offer/answer/ICE, replacement when the other side comes back, ICE restart by
// the initiator when the connection fails), the remote participant, the practice flag and the
// announcement of our avatar. It reports through `events`; the page decides what to draw.
//
// Call states (events.onState): waiting | connecting | connected | reconnecting | failed.
// Signaling states (events.onSignaling): connecting | open | reconnecting | closed | failed.
import { ReconnectingSocket } from "../ws.js";
import { CallPeer } from "./peer.js";
import { SUPPORTED_VERSIONS } from "./frame_codec.js";
import { normalizeRemoteAvatar } from "./remote_description.js";

/** Close codes after which reconnecting can't help, with the message code shown for each. */
export const TERMINAL_CLOSE = new Map([
  [4401, "not_authenticated"],
  [4404, "room_not_found"],
  [4409, "room_full"],
  [4410, "room_closed"],
  [4412, "replaced"],
  [4429, "too_many_errors"],
]);

/** Signaling errors that are logged, not shown (transient or harmless for the person). */
const QUIET_ERRORS = new Set(["peer_not_connected", "rate_limited", "invalid_message"]);
export const PING_MS = 15000; // keeps idle proxies from dropping the socket
export const SIGNALING_BACKOFF = { baseMs: 400, factor: 2, maxMs: 5000, jitter: 0.2 };
const AVATAR_JSON_LIMIT = 4000; // the server refuses avatar descriptions over 4096 characters

const noop = () => {};
const EVENT_NAMES = [
  "onState", // (state)
  "onSignaling", // (state, info)
  "onNotice", // (code, level, text?)  a message to show; codes are the template's errors.*
  "onClearNotice", // (code)
  "onRemotePeer", // (peer|null)  {peer_id, name, role}
  "onRemoteAvatar", // (avatar|null)  the other side's avatar description (never in practice)
  "onPractice", // ()  the practice partner joined: show our own avatar as the other one
  "onRemoteReset", // ()  the other side starts over: drop its frames
  "onPeerLeft", // (reason)  "hangup" | "timeout"
  "onPeerState", // (connectionState)
  "onPeerClosed", // ()  the peer connection is gone (stop what runs over its channels)
  "onChannel", // (label, channel)  a DataChannel of the current peer connection
  "onRemoteAudio", // (stream)
];

export class CallSession {
  /**
   * @param {{url:string, iceServers?:Array, getMicTrack?:()=>MediaStreamTrack|null,
   *          events?:object, createSocket?:Function, createPeerConnection?:Function,
   *          createStream?:Function, timers?:object, random?:()=>number, log?:Function}} opts
   */
  constructor({ url, iceServers = [], getMicTrack = () => null, events = {}, createSocket, createPeerConnection, createStream, timers, random, log }) {
    this.url = url;
    this.iceServers = iceServers;
    this.getMicTrack = getMicTrack;
    this.ev = {};
    for (const name of EVENT_NAMES) this.ev[name] = events[name] || noop;
    this.factories = { createPeerConnection, createStream };
    this.timers = timers || {
      setTimeout: (f, ms) => setTimeout(f, ms),
      clearTimeout: (id) => clearTimeout(id),
      setInterval: (f, ms) => setInterval(f, ms),
      clearInterval: (id) => clearInterval(id),
    };
    this.log = log || ((...args) => console.warn(...args));
    this.state = "waiting";
    this.signalingState = "connecting";
    this.connection = "new"; // the peer connection's connectionState, "closed" when none
    this.joined = null; // the last `joined` message
    this.remotePeer = null;
    this.remoteConnected = false; // the other participant's signaling socket is there (not in its grace period)
    this.peer = null;
    this.localAvatar = null;
    this.remoteFrameVersions = [1]; // frame versions the other side decodes (its `avatar` message)
    this.practiceRequested = false;
    this.practice = false;
    this.lastError = null;
    this._ping = null;
    this.socket = new ReconnectingSocket(url, {
      backoff: SIGNALING_BACKOFF,
      terminalCodes: TERMINAL_CLOSE.keys(),
      createSocket,
      timers: this.timers,
      random,
      onConnecting: ({ attempt }) => this._signaling(attempt ? "reconnecting" : "connecting"),
      onOpen: () => this._onOpen(),
      onMessage: (msg) => this.handle(msg).catch((err) => this.log("signaling message failed", err)),
      onClose: (info) => this._onClose(info),
    });
  }

  // ------------------------------------------------------------------ public
  connect() {
    this.socket.connect();
  }

  /**
   * Leave: `hangup` tells the other side at once that we are gone for good. Without it (a reload,
   * a closed tab) our seat is held for the grace period and the other side shows "Reconnecting"
   * until we are back.
   */
  close({ hangup = true } = {}) {
    this._stopPing();
    if (hangup) this.socket.send({ type: "hangup" });
    this.socket.close(1000);
    this.closePeer();
  }

  send(msg) {
    return this.socket.send(msg);
  }

  /** Our avatar description ({renderer, fileHash, id, name, license}); sent now when `announce`. */
  setLocalAvatar(avatar, { announce = true } = {}) {
    this.localAvatar = avatar;
    if (announce) this.announceAvatar();
  }

  announceAvatar() {
    if (!this.localAvatar) return false;
    let avatar = this.localAvatar;
    if (JSON.stringify(avatar).length > AVATAR_JSON_LIMIT && avatar.license) avatar = { ...avatar, license: { ...avatar.license, card: [] } };
    // `frames`: the frame versions we decode; the other side sends version 2 (with the body
    // section) only to a peer that listed it, so older clients keep getting version 1.
    return this.socket.send({ type: "avatar", avatar, frames: [...SUPPORTED_VERSIONS] });
  }

  /** The highest frame version both sides speak (1 until the other side's avatar says more). */
  get frameVersion() {
    // The practice partner (rooms/peer.py) echoes our own frames back to us: we decode them.
    return this.practice || this.remoteFrameVersions.includes(2) ? 2 : 1;
  }

  /** The page asked the server for a practice partner (or that request failed: false). */
  requestPractice(on) {
    this.practiceRequested = on;
  }

  /** An open DataChannel of the current peer connection, or null. */
  channel(label) {
    const ch = this.peer && this.peer.channels[label];
    return ch && ch.readyState === "open" ? ch : null;
  }

  sendControl(msg) {
    const ch = this.channel("control");
    if (ch) ch.send(JSON.stringify(msg));
  }

  // ------------------------------------------------------------------ signaling socket
  _signaling(state, info) {
    this.signalingState = state;
    this.ev.onSignaling(state, info);
    if (state === "reconnecting") {
      this._setState("reconnecting");
      this.ev.onNotice("network_lost", "warning");
    } else if (state === "open") {
      this.ev.onClearNotice("network_lost");
    } else if (state === "failed") {
      this._setState("failed");
      this.closePeer();
      this.ev.onNotice(info && info.code ? info.code : "signaling_failed", "error");
    }
  }

  _onOpen() {
    this._signaling("open");
    this.socket.send({ type: "join" });
    this._stopPing();
    this._ping = this.timers.setInterval(() => this.socket.send({ type: "ping", t: Date.now() }), PING_MS);
  }

  _onClose({ code, terminal, byUs, attempt, delay }) {
    this._stopPing();
    if (byUs) this._signaling("closed");
    else if (terminal) this._signaling("failed", { code: (this.lastError && this.lastError.code) || TERMINAL_CLOSE.get(code), closeCode: code });
    else this._signaling("reconnecting", { attempt, delay });
  }

  _stopPing() {
    if (this._ping !== null) this.timers.clearInterval(this._ping);
    this._ping = null;
  }

  _setState(state) {
    this.state = state;
    this.ev.onState(state);
  }

  _setRemotePeer(peer) {
    this.remotePeer = peer;
    this.ev.onRemotePeer(peer);
  }

  /** One server message. Returns a promise that settles when its handling is done. */
  async handle(m) {
    switch (m.type) {
      case "joined": {
        this.joined = m;
        if (Array.isArray(m.ice_servers)) this.iceServers = m.ice_servers;
        const other = (m.peers || []).find((p) => p.peer_id !== m.peer_id);
        this._setRemotePeer(other || null);
        this.remoteConnected = Boolean(other && other.connected);
        if (m.initiator) {
          this.announceAvatar();
          await this.newPeer(true);
        } else if (other && !other.connected) {
          // We came back (or they dropped first): they are held for the grace period.
          this.closePeer();
          this._setState("reconnecting");
          this.ev.onNotice("peer_disconnected", "warning");
        } else {
          this._setState(other ? "connecting" : "waiting");
        }
        break;
      }
      case "peer_joined":
        this.remoteFrameVersions = [1]; // until their avatar message says otherwise
        this._setRemotePeer(m.peer);
        this.remoteConnected = true;
        this.ev.onClearNotice("peer_left");
        this.ev.onClearNotice("peer_disconnected");
        if (this.practiceRequested) {
          this.practice = true;
          this.ev.onPractice();
        }
        this.announceAvatar(); // sent while nobody was there it was dropped
        // The newcomer (or the one coming back) offers; we wait for its offer on a fresh connection.
        this.closePeer();
        this.ev.onRemoteReset();
        this._setState("connecting");
        break;
      case "offer": {
        const peer = await this.newPeer(false);
        await peer.acceptOffer(m.sdp);
        break;
      }
      case "answer":
        if (this.peer) await this.peer.acceptAnswer(m.sdp);
        break;
      case "candidate":
        if (this.peer) await this.peer.addCandidate(m.candidate);
        break;
      case "avatar":
        this.remoteFrameVersions = Array.isArray(m.frames) ? m.frames : [1];
        if (!this.practice) this.ev.onRemoteAvatar(normalizeRemoteAvatar(m.avatar));
        break;
      case "peer_disconnected":
        // Their seat is held: stay in the call, show "Reconnecting" until they are back
        // (peer_joined, resumed) or the grace period ends (peer_left, timeout).
        this.remoteConnected = false;
        this._setState("reconnecting");
        this.ev.onNotice("peer_disconnected", "warning");
        break;
      case "peer_left":
        this.closePeer();
        this.ev.onRemoteReset();
        this.practice = false;
        this.practiceRequested = false;
        this._setRemotePeer(null);
        this.remoteConnected = false;
        this.ev.onRemoteAvatar(null);
        this.ev.onClearNotice("peer_disconnected");
        this.ev.onNotice("peer_left", "warning");
        this._setState("waiting");
        this.ev.onPeerLeft(m.reason);
        break;
      case "room_closed":
        this.ev.onNotice("room_closed", "error");
        this._setState("failed");
        this.closePeer();
        break;
      case "error":
        this.lastError = m; // its code explains a terminal close that follows
        if (QUIET_ERRORS.has(m.code)) this.log("signaling error", m);
        else this.ev.onNotice(m.code, "error", m.message);
        break;
      default:
        break; // pong and anything newer
    }
  }

  // ------------------------------------------------------------------ peer connection
  async newPeer(initiator) {
    this.closePeer();
    const peer = new CallPeer({
      iceServers: this.iceServers,
      micTrack: this.getMicTrack(),
      sendSignal: (msg) => this.socket.send(msg),
      onState: (s) => this._onPeerState(peer, s),
      onChannel: (label, ch) => {
        if (peer === this.peer) this.ev.onChannel(label, ch);
      },
      onRemoteAudio: (stream) => this.ev.onRemoteAudio(stream),
      createPeerConnection: this.factories.createPeerConnection,
      createStream: this.factories.createStream,
    });
    this.peer = peer;
    this.connection = "new";
    this._setState("connecting");
    if (initiator) await peer.startAsInitiator();
    return peer;
  }

  _onPeerState(peer, state) {
    if (peer !== this.peer) return;
    this.connection = state;
    this.ev.onPeerState(state);
    if (state === "connected") {
      this._setState("connected");
      this.ev.onClearNotice("network_lost");
      this.ev.onClearNotice("peer_disconnected");
    } else if (state === "disconnected") {
      this._setState("reconnecting");
    } else if (state === "failed") {
      // ICE gave up: the initiator offers again on a fresh connection, but only while the other
      // side's socket is there: while it is away (reload, grace period) the offer could not be
      // delivered, and the one coming back offers anyway.
      this._setState("reconnecting");
      if (!this.remoteConnected) return;
      this.ev.onNotice("network_lost", "warning");
      if (this.joined && this.joined.initiator && this.remotePeer) {
        this.newPeer(true).catch((err) => this.log("ICE restart failed", err));
      }
    }
  }

  closePeer() {
    this.ev.onPeerClosed();
    if (this.peer) this.peer.close();
    this.peer = null;
    this.connection = "closed";
  }
}
