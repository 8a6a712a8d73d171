// The streamer's live dashboard (templates/live/detail.html): control buttons call the REST API
// (/api/live/sessions/<id>/...), the dashboard socket (/ws/live/sessions/<id>/) feeds the live
// log with per-stage timings, intake health and the VTube Studio status the overlay relays.
// Everything shown from the socket goes in as text (viewer nicknames and messages are hostile).

import { withCsrf } from "../csrf.js";
import { ReconnectingSocket, wsUrl } from "../ws.js";

const LOG_LIMIT = 200;

// The log's sentences; the page passes them in its language (live/views.py `strings.log`).
export const LOG_WORDS = {
  queued: "queued",
  skipped: "skipped ({reason})",
  queue: "queue {n}",
  chosen: "answering {n} message(s): {prompt}",
  reply: "said: {text}",
  emergency_stop: "emergency stop, {n} queued message(s) dropped",
  reasons: {},
};

/** `template` with each {name} replaced by values[name] (one pass: a value's own braces stay). */
function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

/** One log line for a dashboard socket message, or null when it is not a log entry. */
export function describeLog(msg, words = LOG_WORDS) {
  if (!msg || typeof msg !== "object") return null;
  const w = { ...LOG_WORDS, ...words };
  const stage = String(msg.stage || msg.type || "");
  if (msg.type === "log") {
    if (stage === "incoming") {
      const e = msg.event || {};
      const reason = msg.reason || "filtered";
      const verdict = msg.accepted ? w.queued : fill(w.skipped, { reason: (w.reasons || {})[reason] || reason });
      const gift = e.amount ? ` [${e.amount}]` : "";
      return { stage, text: `${e.nickname || "?"}${gift}: ${e.text || ""} → ${verdict}, ${fill(w.queue, { n: msg.queued ?? 0 })}` };
    }
    if (stage === "chosen") return { stage, text: fill(w.chosen, { n: msg.count ?? 0, prompt: msg.prompt || "" }) };
    if (stage === "reply") return { stage, text: fill(w.reply, { text: msg.text || "" }), ms: msg.first_audio_ms };
    if (stage === "emergency_stop") return { stage, text: fill(w.emergency_stop, { n: msg.cleared ?? 0 }) };
    if (stage === "error") return { stage, text: `${msg.code || "error"}: ${msg.detail || ""}` };
    return { stage, text: String(msg.detail || "") };
  }
  if (msg.type === "intake") return { stage: "intake", text: `${msg.state || ""} ${msg.detail || ""}`.trim() };
  if (msg.type === "vts_status") return { stage: "vts", text: String(msg.state || "") };
  return null;
}

export class LiveDashboard {
  constructor(doc, config) {
    this.doc = doc;
    this.config = config;
    this.root = doc.querySelector("[data-live-dashboard]");
    this.log = doc.querySelector("[data-live-log]");
    this.socket = null;
    this.strings = config.strings || {};
  }

  /** The page-language word for a socket state or a session status (the code when none is given). */
  word(key, fallback = key) {
    return this.strings[key] || fallback;
  }

  statusLabel(status) {
    return (this.strings.statuses || {})[status] || status;
  }

  start() {
    this.root.addEventListener("click", (ev) => this.onClick(ev));
    const say = this.doc.querySelector("[data-live-say]");
    if (say) say.addEventListener("submit", (ev) => this.onSay(ev));
    const chat = this.doc.querySelector("[data-live-test-chat]");
    if (chat) chat.addEventListener("submit", (ev) => this.onTestChat(ev));
    this.socket = new ReconnectingSocket(wsUrl(this.config.wsPath), {
      terminalCodes: [4401, 4403, 4404],
      onOpen: () => this.setText("[data-live-socket]", this.word("connected")),
      onClose: (info) => this.setText("[data-live-socket]", info.terminal ? this.word("closed") : this.word("reconnecting", "reconnecting…")),
      onMessage: (msg) => this.onMessage(msg),
    });
    this.socket.connect();
  }

  setText(selector, text) {
    const el = this.doc.querySelector(selector);
    if (el) el.textContent = text;
  }

  showError(message) {
    const el = this.doc.querySelector("[data-live-error]");
    el.textContent = message || "";
    el.hidden = !message;
  }

  async call(method, path, body) {
    const res = await fetch(this.config.api + path, {
      method,
      credentials: "same-origin",
      headers: withCsrf({ "Content-Type": "application/json", Accept: "application/json" }, this.root),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (!res.ok) {
      this.showError((data && data.message) || `HTTP ${res.status}`);
      return null;
    }
    this.showError("");
    return data || {};
  }

  async onClick(ev) {
    const copy = ev.target.closest("[data-copy]");
    if (copy) {
      const input = this.doc.getElementById(copy.dataset.copy);
      try {
        await navigator.clipboard.writeText(input.value);
      } catch {
        input.select();
      }
      return;
    }
    const wipe = ev.target.closest("[data-wipe-viewer]");
    if (wipe) {
      const id = wipe.dataset.wipeViewer;
      const url = id === "all" ? this.config.viewersApi : `${this.config.viewersApi}/${encodeURIComponent(id)}`;
      const res = await fetch(url, { method: "DELETE", credentials: "same-origin", headers: withCsrf({}, this.root) });
      if (res.ok) {
        const rows = id === "all" ? this.doc.querySelectorAll("[data-viewer-row]") : this.doc.querySelectorAll(`[data-viewer-row="${CSS.escape(id)}"]`);
        rows.forEach((row) => row.remove());
      }
      return;
    }
    const button = ev.target.closest("[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    button.disabled = true;
    try {
      const data = await this.call("POST", `/${action}`);
      if (data && action === "overlay/rotate-key") this.doc.location.reload();
      else if (data && data.status) this.showStatus(data);
    } finally {
      button.disabled = false;
    }
  }

  async onSay(ev) {
    ev.preventDefault();
    const form = ev.target;
    if (await this.call("POST", "/say", { text: form.elements.text.value })) form.elements.text.value = "";
  }

  async onTestChat(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const body = { nickname: f.nickname.value, text: f.text.value, donation: Number(f.donation.value || 0) };
    if (await this.call("POST", "/test-chat", body)) f.text.value = "";
  }

  showStatus(data) {
    if (data.status) this.setText("[data-live-status]", this.statusLabel(data.status));
    if ("status_detail" in data || "detail" in data) this.setText("[data-live-status-detail]", data.status_detail ?? data.detail ?? "");
    const paused = data.ai_paused ?? data.paused;
    if (typeof paused === "boolean") this.doc.querySelector("[data-live-paused]").hidden = !paused;
  }

  onMessage(msg) {
    if (msg.type === "status") this.showStatus(msg);
    if (msg.type === "intake") this.setText("[data-live-intake]", `${msg.state || ""}`);
    if (msg.type === "vts_status") this.setText("[data-live-vts]", `${msg.state || ""}`);
    const line = describeLog(msg, this.strings.log);
    if (!line) return;
    const li = this.doc.createElement("li");
    li.className = `live-log-${line.stage.replace(/[^a-z_]/g, "")}`;
    li.dataset.stage = line.stage;
    const time = this.doc.createElement("time");
    time.textContent = new Date((msg.at || Date.now() / 1000) * 1000).toLocaleTimeString();
    const text = this.doc.createElement("span");
    text.textContent = line.text;
    li.append(time, " ", text);
    if (typeof line.ms === "number") {
      const ms = this.doc.createElement("span");
      ms.className = "live-ms";
      ms.textContent = `chat → voice ${Math.round(line.ms)} ms`;
      li.append(" ", ms);
    }
    this.log.prepend(li);
    while (this.log.children.length > LOG_LIMIT) this.log.lastElementChild.remove();
  }
}
