// ws.js: the one reconnecting WebSocket. Backoff growth, cap and jitter; reconnection after a
// drop at the computed delay; reset after a successful open; terminal close codes; our own close;
// sockets that cannot be created; messages that are not JSON objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReconnectingSocket, backoffDelay, wsUrl } from "../src/ws.js";
import { FakeTimers } from "./fakes/timers.mjs";

/** A WebSocket the test opens, feeds and closes by hand. */
class HandSocket {
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
  }

  send(text) {
    this.sent.push(text);
  }

  close(code) {
    this.closedWith = code;
    this.readyState = 3;
    this.onclose({ code });
  }

  open() {
    this.readyState = 1;
    this.onopen({});
  }

  drop(code = 1006) {
    this.readyState = 3;
    this.onclose({ code });
  }
}

function harness(opts = {}) {
  const timers = new FakeTimers();
  const sockets = [];
  const events = [];
  const rs = new ReconnectingSocket("ws://h/ws/x/", {
    backoff: { baseMs: 100, factor: 2, maxMs: 1000, jitter: 0.5 },
    terminalCodes: [4401, 4404],
    createSocket: (url, protocols) => {
      const s = new HandSocket(url, protocols);
      sockets.push(s);
      return s;
    },
    timers,
    random: () => 0,
    onOpen: (info) => events.push(["open", info]),
    onMessage: (m) => events.push(["message", m]),
    onClose: (info) => events.push(["close", info]),
    onConnecting: (info) => events.push(["connecting", info]),
    ...opts,
  });
  return { rs, timers, sockets, events };
}

test("backoff doubles from the base, stops at the cap, and jitter only shortens it", () => {
  const cfg = { baseMs: 400, factor: 2, maxMs: 5000, jitter: 0.2 };
  const none = () => 0;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, cfg, none)), [400, 800, 1600, 3200, 5000, 5000, 5000]);
  const most = () => 0.999999;
  assert.equal(backoffDelay(1, cfg, most), 320);
  assert.equal(backoffDelay(8, cfg, most), 4000);
  assert.equal(backoffDelay(2, cfg, () => 0.5), 720);
  assert.equal(backoffDelay(0, cfg, none), 400); // attempt 0 counts as the first retry
});

test("jitter spreads clients that dropped together", () => {
  const cfg = { baseMs: 1000, maxMs: 30000, jitter: 0.3 };
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(3, cfg, random)));
  assert.ok(delays.size > 10);
  for (const d of delays) assert.ok(d > 2800 && d <= 4000, `delay ${d}`);
});

test("wsUrl picks wss on https pages", () => {
  assert.equal(wsUrl("/ws/chat/3/", { protocol: "https:", host: "a.example:8443" }), "wss://a.example:8443/ws/chat/3/");
  assert.equal(wsUrl("/ws/chat/3/", { protocol: "http:", host: "127.0.0.1:8000" }), "ws://127.0.0.1:8000/ws/chat/3/");
});

test("a dropped socket is opened again after the backoff; each failure waits longer", () => {
  const { rs, timers, sockets, events } = harness();
  rs.connect();
  sockets[0].open();
  assert.equal(rs.isOpen, true);
  sockets[0].drop();
  assert.equal(rs.isOpen, false);
  assert.equal(rs.active, false);
  assert.deepEqual(events.at(-1), ["close", { code: 1006, terminal: false, byUs: false, attempt: 1, delay: 100 }]);
  timers.advance(99);
  assert.equal(sockets.length, 1);
  timers.advance(1);
  assert.equal(sockets.length, 2);
  assert.deepEqual(events.at(-1), ["connecting", { attempt: 1 }]);
  sockets[1].drop(); // never opened: the next wait is longer
  assert.deepEqual(timers.timeouts(), [200]);
  timers.advance(200);
  sockets[2].drop();
  timers.advance(400);
  sockets[3].drop();
  timers.advance(800);
  sockets[4].drop();
  assert.deepEqual(timers.timeouts(), [1000]); // capped
  timers.advance(1000);
  sockets[5].open();
  assert.deepEqual(events.at(-1), ["open", { attempt: 5 }]);
  sockets[5].drop(); // after a good open the backoff starts over
  assert.deepEqual(timers.timeouts(), [100]);
});

test("terminal close codes end it: no retry, and the reason says terminal", () => {
  const { rs, timers, sockets, events } = harness();
  rs.connect();
  sockets[0].open();
  sockets[0].drop(4404);
  assert.deepEqual(events.at(-1), ["close", { code: 4404, terminal: true, byUs: false, attempt: 0, delay: null }]);
  assert.deepEqual(timers.timeouts(), []);
  timers.advance(60000);
  assert.equal(sockets.length, 1);
});

test("close() stops reconnecting, also while a retry is waiting", () => {
  const { rs, timers, sockets, events } = harness();
  rs.connect();
  sockets[0].open();
  rs.close();
  assert.equal(sockets[0].closedWith, 1000);
  assert.deepEqual(events.at(-1), ["close", { code: 1000, terminal: true, byUs: true, attempt: 0, delay: null }]);
  rs.connect();
  sockets[1].drop();
  assert.deepEqual(timers.timeouts(), [100]);
  rs.close();
  assert.deepEqual(timers.timeouts(), []);
  timers.advance(10000);
  assert.equal(sockets.length, 2);
});

test("events of a replaced socket are ignored", () => {
  const { rs, timers, sockets, events } = harness();
  rs.connect();
  sockets[0].open();
  rs.connect(); // e.g. the page reconnects by hand
  const before = events.length;
  sockets[0].onmessage({ data: '{"type":"late"}' });
  sockets[0].drop();
  assert.equal(events.length, before);
  assert.deepEqual(timers.timeouts(), []);
});

test("only JSON objects reach onMessage; send() is false while not open", () => {
  const { rs, sockets, events } = harness();
  rs.connect();
  assert.equal(rs.send({ type: "early" }), false);
  sockets[0].open();
  for (const data of ["not json", "[1,2]", "42", "null", '{"type":"ok","n":1}']) sockets[0].onmessage({ data });
  assert.deepEqual(events.filter(([k]) => k === "message").map(([, m]) => m), [{ type: "ok", n: 1 }]);
  assert.equal(rs.send({ type: "join" }), true);
  assert.deepEqual(sockets[0].sent, ['{"type":"join"}']);
});

test("a socket that cannot be created is reported once, as an error, without retries", () => {
  const timers = new FakeTimers();
  const closes = [];
  const rs = new ReconnectingSocket("ws://bad", {
    createSocket: () => {
      throw new SyntaxError("bad URL");
    },
    timers,
    onClose: (info) => closes.push(info),
  });
  assert.equal(rs.connect(), false);
  assert.equal(closes.length, 1);
  assert.equal(closes[0].terminal, true);
  assert.ok(closes[0].error instanceof SyntaxError);
  assert.deepEqual(timers.timeouts(), []);
});

test("subprotocols are passed to the socket", () => {
  const { rs, sockets } = harness({ protocols: ["avatarforge.token", "af_x"] });
  rs.connect();
  assert.deepEqual(sockets[0].protocols, ["avatarforge.token", "af_x"]);
  assert.equal(sockets[0].url, "ws://h/ws/x/");
});
