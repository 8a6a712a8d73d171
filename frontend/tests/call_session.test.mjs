// call/session.js against a fake room server speaking docs/protocol.md section 2 and fake
// RTCPeerConnections (tests/fakes): two sessions negotiate for real through the relay, and the
// tests assert the messages each side sent and the states it went through.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CallSession, PING_MS, SIGNALING_BACKOFF } from "../src/call/session.js";
import { backoffDelay } from "../src/ws.js";
import { FakeRoom } from "./fakes/room.mjs";
import { FakePeerConnection } from "./fakes/rtc.mjs";
import { FakeTimers, settle } from "./fakes/timers.mjs";

const avatarOf = (name) => ({ renderer: "2d", fileHash: null, id: "builtin:fox", name, license: null });

function client(room, identity, timers) {
  const rec = { states: [], signaling: [], notices: new Map(), remoteAvatars: [], channels: [], peerLeft: [], practice: 0, resets: 0, audio: [], logs: [], pcs: [] };
  const session = new CallSession({
    url: "ws://testserver/ws/rooms/k7mq3xv9tw/",
    createSocket: room.socketsFor(identity),
    createPeerConnection: (cfg) => {
      const pc = new FakePeerConnection(cfg);
      rec.pcs.push(pc);
      return pc;
    },
    createStream: (tracks) => ({ tracks }),
    timers,
    random: () => 0.5,
    log: (...args) => rec.logs.push(args),
    events: {
      onState: (s) => rec.states.push(s),
      onSignaling: (s, info) => rec.signaling.push([s, info]),
      onNotice: (code, level) => rec.notices.set(code, level),
      onClearNotice: (code) => rec.notices.delete(code),
      onRemoteAvatar: (a) => rec.remoteAvatars.push(a),
      onChannel: (label) => rec.channels.push(label),
      onPeerLeft: (reason) => rec.peerLeft.push(reason),
      onPractice: () => rec.practice++,
      onRemoteReset: () => rec.resets++,
      onRemoteAudio: (stream) => rec.audio.push(stream),
    },
  });
  session.setLocalAvatar(avatarOf(identity), { announce: false });
  return { session, rec };
}

/** ann waits in the room, ben joins: returns both after their connection is up. */
async function connectedPair() {
  const room = new FakeRoom();
  const timers = new FakeTimers();
  const ann = client(room, "ann", timers);
  const ben = client(room, "ben", timers);
  ann.session.connect();
  await settle();
  ben.session.connect();
  await settle();
  return { room, timers, ann, ben };
}

const types = (room, who) => room.log.filter(([w]) => w === who).map(([, m]) => m.type);

test("the first participant joins and waits; nothing but join is sent", async () => {
  const room = new FakeRoom();
  const timers = new FakeTimers();
  const ann = client(room, "ann", timers);
  ann.session.connect();
  await settle();
  assert.deepEqual(types(room, "ann"), ["join"]);
  assert.deepEqual(ann.rec.signaling.map(([s]) => s), ["connecting", "open"]);
  assert.equal(ann.session.state, "waiting");
  assert.equal(ann.session.peer, null);
  assert.equal(ann.session.joined.seat, 0);
});

test("the newcomer offers, the other answers, ICE is exchanged and both reach connected", async () => {
  const { room, ann, ben } = await connectedPair();
  // ben is told initiator: announces its avatar, then offers; candidates trickle after.
  const benSent = types(room, "ben");
  assert.deepEqual(benSent.slice(0, 3), ["join", "avatar", "offer"]);
  assert.equal(benSent.filter((t) => t === "candidate").length, 2); // one host candidate, then null
  assert.equal(benSent.includes("answer"), false);
  // ann re-announces on peer_joined (its first announcement had nobody to go to) and answers.
  const annSent = types(room, "ann");
  assert.deepEqual(annSent.slice(0, 3), ["join", "avatar", "answer"]);
  assert.equal(annSent.includes("offer"), false);
  assert.equal(room.received("ann", "answer")[0].sdp, ann.rec.pcs[0].localDescription.sdp);

  for (const side of [ann, ben]) {
    assert.equal(side.session.state, "connected");
    assert.equal(side.session.connection, "connected");
    assert.equal(side.rec.states.at(-1), "connected");
    assert.deepEqual([...side.rec.channels].sort(), ["asset", "control", "params"]);
    assert.notEqual(side.session.channel("params"), null);
    assert.equal(side.rec.pcs.length, 1);
    assert.deepEqual(side.rec.pcs[0].config.iceServers, [{ urls: ["stun:stun.example.org:3478"] }]);
    assert.equal(side.rec.audio.length, 1);
  }
  // (connecting is reported on peer_joined and again when the offer makes the new connection)
  assert.deepEqual(ann.rec.states, ["waiting", "connecting", "connecting", "connected"]);
  assert.deepEqual(ben.rec.states, ["connecting", "connected"]);
  assert.deepEqual(ann.rec.remoteAvatars, [avatarOf("ben")]);
  assert.deepEqual(ben.rec.remoteAvatars, [avatarOf("ann")]);
  assert.equal(ann.session.remotePeer.name, "ben");
  assert.equal(ben.session.remotePeer.name, "ann");
  // The params channel is unreliable and unordered, as section 1 requires.
  const params = ben.session.channel("params");
  assert.equal(params.ordered, false);
  assert.equal(params.maxRetransmits, 0);
  // Each side took the other's candidates (buffered until the remote description was set).
  const cands = (pc) => pc.candidates.map((c) => (c ? c.candidate : null));
  assert.deepEqual(cands(ann.rec.pcs[0]), [`candidate:1 1 udp 2130706431 192.0.2.${ben.rec.pcs[0].id} 50000 typ host`, null]);
  assert.deepEqual(cands(ben.rec.pcs[0]), [`candidate:1 1 udp 2130706431 192.0.2.${ann.rec.pcs[0].id} 50000 typ host`, null]);
  // Control messages reach the other side over the reliable channel.
  const got = [];
  ann.session.channel("control").onmessage = (e) => got.push(JSON.parse(e.data));
  ben.session.sendControl({ t: "expr", weights: { happy: 1 } });
  await settle();
  assert.deepEqual(got, [{ t: "expr", weights: { happy: 1 } }]);
});

test("when ICE fails the initiator offers again on a fresh connection; the answerer waits", async () => {
  const { room, ann, ben } = await connectedPair();
  ann.rec.pcs[0].fail(); // the answerer's side notices first
  assert.equal(ann.session.state, "reconnecting");
  assert.equal(ann.rec.notices.get("network_lost"), "warning");
  await settle();
  assert.equal(room.received("ann", "offer").length, 0);

  ben.rec.pcs[0].fail();
  assert.deepEqual(ben.rec.states.slice(-2), ["reconnecting", "connecting"]); // at once on a new connection
  await settle();
  assert.equal(room.received("ben", "offer").length, 2);
  assert.equal(room.received("ann", "answer").length, 2);
  assert.equal(ben.rec.pcs.length, 2);
  assert.equal(ben.rec.pcs[0].signalingState, "closed");
  assert.equal(ann.rec.pcs.length, 2);
  for (const side of [ann, ben]) {
    assert.equal(side.session.state, "connected");
    assert.equal(side.rec.notices.has("network_lost"), false);
  }
});

test("a dropped signaling socket reconnects after the backoff and resumes the seat", async () => {
  const { room, timers, ann, ben } = await connectedPair();
  const benPeerId = ben.session.joined.peer_id;
  const resetsBefore = ann.rec.resets;
  ben.session.socket.ws.drop();
  await settle();
  // ann: the other side is away, its seat held.
  assert.equal(ann.session.state, "reconnecting");
  assert.equal(ann.rec.notices.get("peer_disconnected"), "warning");
  // ben: waits the first backoff step before trying again.
  const expected = backoffDelay(1, SIGNALING_BACKOFF, () => 0.5);
  assert.deepEqual(ben.rec.signaling.at(-1), ["reconnecting", { attempt: 1, delay: expected }]);
  assert.deepEqual(timers.timeouts(), [expected]);
  assert.equal(ben.rec.notices.get("network_lost"), "warning");
  assert.equal(room.received("ben", "join").length, 1);
  timers.advance(expected - 1);
  await settle();
  assert.equal(room.received("ben", "join").length, 1);
  timers.advance(1);
  await settle();
  assert.equal(room.received("ben", "join").length, 2);
  assert.equal(ben.session.joined.resumed, true);
  assert.equal(ben.session.joined.peer_id, benPeerId);
  // The one coming back offers; the one who stayed drops the old connection and answers.
  assert.equal(room.received("ben", "offer").length, 2);
  assert.equal(ann.rec.resets, resetsBefore + 1);
  assert.equal(ann.rec.pcs[0].signalingState, "closed");
  assert.equal(ann.rec.pcs.length, 2);
  for (const side of [ann, ben]) assert.equal(side.session.state, "connected");
  assert.equal(ann.rec.notices.has("peer_disconnected"), false);
  assert.equal(ben.rec.notices.has("network_lost"), false);
  assert.equal(ben.session.socket.attempt, 0);
});

test("hangup: the other side is told at once, drops the connection and waits again", async () => {
  const { room, timers, ann, ben } = await connectedPair();
  ben.session.close({ hangup: true });
  await settle();
  assert.equal(room.received("ben", "hangup").length, 1);
  assert.deepEqual(ben.rec.signaling.at(-1), ["closed", undefined]);
  assert.deepEqual(timers.timeouts(), []); // no reconnection after our own close
  assert.equal(ben.session.peer, null);
  assert.deepEqual(ann.rec.peerLeft, ["hangup"]);
  assert.equal(ann.session.state, "waiting");
  assert.equal(ann.session.peer, null);
  assert.equal(ann.session.connection, "closed");
  assert.equal(ann.session.remotePeer, null);
  assert.equal(ann.rec.remoteAvatars.at(-1), null);
  assert.equal(ann.rec.notices.get("peer_left"), "warning");
  assert.equal(ann.rec.pcs[0].signalingState, "closed");
});

test("after a hangup the one who stayed waits; when the other comes back both connect with no action", async () => {
  const { room, timers, ann, ben } = await connectedPair();
  ben.session.close({ hangup: true });
  await settle();
  assert.equal(ann.session.state, "waiting");
  assert.equal(ann.session.signalingState, "open"); // still in the room, not sent anywhere
  // Ben opens the call page again: a new session with the same identity gets a fresh seat.
  const ben2 = client(room, "ben", timers);
  ben2.session.connect();
  await settle();
  assert.equal(ben2.session.joined.resumed, false);
  assert.equal(ben2.session.joined.initiator, true);
  for (const side of [ann, ben2]) assert.equal(side.session.state, "connected");
  assert.equal(ann.session.remotePeer.name, "ben");
  assert.equal(ann.rec.notices.has("peer_left"), false);
  assert.equal(room.received("ann", "join").length, 1); // ann did nothing
  assert.deepEqual(ann.rec.remoteAvatars.at(-1), avatarOf("ben"));
});

test("a reload is not a hangup: the seat is held, the other side reconnects, the new page resumes", async () => {
  const { room, timers, ann, ben } = await connectedPair();
  const benPeerId = ben.session.joined.peer_id;
  ben.session.close({ hangup: false }); // the page unloads
  await settle();
  assert.equal(room.received("ben", "hangup").length, 0);
  assert.equal(ann.session.state, "reconnecting");
  assert.equal(ann.rec.notices.get("peer_disconnected"), "warning");
  assert.deepEqual(ann.rec.peerLeft, []);
  const ben2 = client(room, "ben", timers); // the reloaded page
  ben2.session.connect();
  await settle();
  assert.equal(ben2.session.joined.resumed, true);
  assert.equal(ben2.session.joined.peer_id, benPeerId);
  for (const side of [ann, ben2]) assert.equal(side.session.state, "connected");
  assert.equal(ann.rec.notices.has("peer_disconnected"), false);
  assert.deepEqual(ann.rec.peerLeft, []);
});

test("ICE failing while the other side is away offers nothing; the one coming back offers", async () => {
  const { room, timers, ann, ben } = await connectedPair(); // ben joined second: the initiator
  ann.session.socket.ws.drop();
  await settle();
  assert.equal(ben.session.state, "reconnecting");
  ben.rec.pcs[0].fail();
  await settle();
  assert.equal(room.received("ben", "offer").length, 1); // no offer into the void
  assert.equal(ben.rec.pcs.length, 1);
  assert.equal(ben.session.state, "reconnecting");
  assert.equal(ben.rec.logs.length, 0); // and no peer_not_connected error or failed restart
  timers.advance(backoffDelay(1, SIGNALING_BACKOFF, () => 0.5));
  await settle();
  assert.equal(ann.session.joined.resumed, true);
  assert.equal(room.received("ann", "offer").length, 1);
  for (const side of [ann, ben]) assert.equal(side.session.state, "connected");
});

test("joining while the other participant is held for the grace period shows reconnecting", async () => {
  const { room, timers, ann, ben } = await connectedPair();
  ben.session.socket.ws.drop();
  ann.session.close({ hangup: false });
  await settle();
  const ann2 = client(room, "ann", timers);
  ann2.session.connect();
  await settle();
  assert.equal(ann2.session.joined.initiator, false);
  assert.equal(ann2.session.state, "reconnecting");
  assert.equal(ann2.rec.notices.get("peer_disconnected"), "warning");
  assert.equal(ann2.session.remotePeer.name, "ben");
  timers.advance(backoffDelay(1, SIGNALING_BACKOFF, () => 0.5));
  await settle();
  for (const side of [ann2, ben]) assert.equal(side.session.state, "connected");
  assert.equal(ann2.rec.notices.has("peer_disconnected"), false);
});

test("a participant who does not come back within the grace period has left (timeout)", async () => {
  const { room, ann, ben } = await connectedPair();
  ben.session.socket.ws.drop();
  await settle();
  room.expire("ben");
  await settle();
  assert.deepEqual(ann.rec.peerLeft, ["timeout"]);
  assert.equal(ann.session.state, "waiting");
  assert.equal(ann.rec.notices.has("peer_disconnected"), false);
  assert.equal(ann.rec.notices.get("peer_left"), "warning");
});

test("a third participant is refused with room_full and does not retry", async () => {
  const { room, timers } = await connectedPair();
  const cid = client(room, "cid", timers);
  cid.session.connect();
  await settle();
  assert.equal(cid.session.state, "failed");
  assert.equal(cid.rec.notices.get("room_full"), "error");
  assert.deepEqual(cid.rec.signaling.at(-1), ["failed", { code: "room_full", closeCode: 4409 }]);
  assert.deepEqual(timers.timeouts(), []);
  assert.equal(cid.rec.pcs.length, 0);
});

test("a room closed by its owner ends the call on both sides for good", async () => {
  const { room, timers, ann, ben } = await connectedPair();
  room.close();
  await settle();
  for (const side of [ann, ben]) {
    assert.equal(side.session.state, "failed");
    assert.equal(side.rec.notices.get("room_closed"), "error");
    assert.deepEqual(side.rec.signaling.at(-1), ["failed", { code: "room_closed", closeCode: 4410 }]);
    assert.equal(side.session.peer, null);
  }
  assert.deepEqual(timers.timeouts(), []);
});

test("transient signaling errors are logged; others are shown with their code", async () => {
  const room = new FakeRoom();
  const timers = new FakeTimers();
  const ann = client(room, "ann", timers);
  ann.session.connect();
  await settle();
  ann.session.send({ type: "offer", sdp: "v=0" }); // nobody to send it to
  await settle();
  assert.equal(ann.rec.logs.length, 1);
  assert.equal(ann.rec.logs[0][1].code, "peer_not_connected");
  assert.equal(ann.rec.notices.has("peer_not_connected"), false);
  ann.session.send({ type: "dance" });
  await settle();
  assert.equal(ann.rec.notices.get("unknown_type"), "error");
  assert.equal(ann.session.state, "waiting"); // errors that leave the socket open change nothing else
});

test("practice: the partner's avatar is replaced by ours until it leaves", async () => {
  const room = new FakeRoom();
  const timers = new FakeTimers();
  const ann = client(room, "ann", timers);
  const bot = client(room, "bot", timers);
  ann.session.connect();
  await settle();
  ann.session.requestPractice(true);
  bot.session.connect();
  await settle();
  assert.equal(ann.rec.practice, 1);
  assert.equal(ann.session.practice, true);
  assert.equal(room.received("bot", "avatar").length, 1);
  assert.deepEqual(ann.rec.remoteAvatars, []); // the partner's own avatar is not shown
  assert.equal(ann.session.state, "connected");
  bot.session.close({ hangup: true });
  await settle();
  assert.equal(ann.session.practice, false);
  assert.equal(ann.session.practiceRequested, false);
  assert.deepEqual(ann.rec.remoteAvatars, [null]);
});

test("a ping goes out every PING_MS while the socket is open, and pongs are quiet", async () => {
  const room = new FakeRoom();
  const timers = new FakeTimers();
  const ann = client(room, "ann", timers);
  ann.session.connect();
  await settle();
  timers.advance(PING_MS - 1);
  assert.equal(room.received("ann", "ping").length, 0);
  timers.advance(1);
  timers.advance(PING_MS);
  await settle();
  assert.equal(room.received("ann", "ping").length, 2);
  assert.equal(ann.rec.notices.size, 0);
  ann.session.close({ hangup: false });
  await settle();
  timers.advance(PING_MS * 3);
  assert.equal(room.received("ann", "ping").length, 2);
  assert.equal(room.received("ann", "hangup").length, 0);
});

test("an avatar description over the server's limit is sent without its license card", async () => {
  const { room, ann } = await connectedPair();
  const card = Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, state: "allowed", label: "L".repeat(60), value: "V".repeat(300) }));
  const big = { renderer: "vrm", fileHash: "a".repeat(64), id: "7", name: "Big", license: { name: "CC-BY-4.0", authors: ["x"], url: "", card } };
  ann.session.setLocalAvatar(big);
  const sent = room.received("ann", "avatar").at(-1).avatar;
  assert.deepEqual(sent.license.card, []);
  assert.equal(sent.license.name, "CC-BY-4.0");
  assert.equal(big.license.card.length, 12); // ours is unchanged
  const small = avatarOf("ann2");
  ann.session.setLocalAvatar(small);
  assert.deepEqual(room.received("ann", "avatar").at(-1).avatar, small);
});

test("a malformed avatar description reaches the page normalized (the server is not trusted alone)", async () => {
  const { ann, ben } = await connectedPair();
  ben.session.setLocalAvatar({ renderer: "vrm", fileHash: "nope", id: 3, name: "Ben", license: { authors: "Ben", card: "x" } });
  await settle();
  assert.deepEqual(ann.rec.remoteAvatars.at(-1),
    { renderer: "2d", fileHash: null, id: "3", name: "Ben", license: { name: "", authors: ["Ben"], url: "", card: [] } });
});

test("frame version 2 is used only when the other side's avatar message lists it", async () => {
  const { room, ann, ben } = await connectedPair();
  assert.deepEqual(room.received("ben", "avatar")[0].frames, [1, 2]);
  assert.equal(ann.session.frameVersion, 2);
  assert.equal(ben.session.frameVersion, 2);
  // An older client announces its avatar without `frames`: back to version 1 for it.
  await ann.session.handle({ type: "avatar", avatar: avatarOf("old"), from: "p_old" });
  assert.equal(ann.session.frameVersion, 1);
});
