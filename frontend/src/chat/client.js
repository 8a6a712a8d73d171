// The conversation page: transcript, composer, stop button, model selector, and the avatar that
// shows the reply's emotion (lerp per parameter) and idles (blink, breathing, sway).
// Talks to /ws/chat/<id>/ (see chat/replies.py for the frames). User text is only ever put in
// the page with textContent.
import { AvatarView } from "../avatar/view.js";
import { BS, createParams } from "../avatar/params.js";
import { ExpressionAnimator } from "./expression.js";
import { frameToParams } from "./avatar_params.js";
import { withCsrf } from "../csrf.js";
import { ReconnectingSocket, wsUrl } from "../ws.js";
import { TextVisemes } from "./text_visemes.js";
import { VoiceTalk } from "./voice.js";

function readJson(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

function format(template, values) {
  return String(template).replace(/%\((\w+)\)s/g, (_m, k) => (k in values ? String(values[k]) : ""));
}

export class ChatPage {
  constructor(root = document) {
    this.cfg = readJson("chat-config");
    this.t = readJson("chat-strings") || {};
    this.log = root.querySelector("[data-chat-log]");
    this.form = root.querySelector("[data-chat-form]");
    this.input = root.querySelector("[data-chat-input]");
    this.sendButton = root.querySelector("[data-chat-send]");
    this.stopButton = root.querySelector("[data-chat-stop]");
    this.status = root.querySelector("[data-chat-status]");
    this.emotionBadge = root.querySelector("[data-chat-emotion]");
    this.modelSelect = root.querySelector("[data-chat-model]");
    this.olderButton = root.querySelector("[data-chat-older]");
    this.stage = root.getElementById ? root.getElementById("chat-avatar") : document.getElementById("chat-avatar");
    this.ws = null; // ReconnectingSocket
    this.pending = null; // {replyId, el, textEl, userEl, sentText}
    this.lastSent = "";
    this.busy = false;
    this.ready = false; // the server said "ready" on this socket
    this.awaiting = false; // a send is on its way, not yet accepted or refused
    this.oldestSeq = Math.min(...this.cfg.messages.map((m) => m.seq), Infinity);
  }

  start() {
    this.setupAvatar();
    this.voice = new VoiceTalk(document, this.cfg, this.t, { onEmotion: (name) => this.setEmotion(name) });
    this.voice.start();
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.send();
      }
    });
    this.stopButton.addEventListener("click", () => this.stop());
    if (this.modelSelect) this.modelSelect.addEventListener("change", () => this.changeModel());
    if (this.olderButton) {
      this.olderButton.hidden = !this.cfg.hasOlder;
      this.olderButton.addEventListener("click", () => this.loadOlder());
    }
    this.scrollToEnd(true);
    this.connect();
  }

  // --- avatar ---------------------------------------------------------------------------------
  setupAvatar() {
    this.animator = new ExpressionAnimator(this.cfg.emotions, { now: performance.now(), emotion: this.cfg.initialEmotion });
    this.textVisemes = new TextVisemes();
    this.params = createParams();
    const source = (t) => {
      const frame = this.animator.update(t);
      // In a voice conversation the mouth follows the character's audio (visemes on the playout
      // clock), blended over the emotion pose; it rests when the audio is silent. Without voice,
      // a streaming reply's text moves it (one vowel shape per syllable).
      const voiced = this.voice && this.voice.active ? this.voice.mouth(t) : null;
      const mouth = voiced || (this.textVisemes.active ? this.textVisemes.at(t) : null);
      if (mouth) frame.mouth = mouth.weight;
      const params = frameToParams(frame, this.params, mouth ? mouth.weight > 0 : this.animator.speaking);
      if (mouth && mouth.weight > 0) params.expressions[mouth.viseme] = mouth.weight;
      if (this.voice) this.voice.record(t, params.blendshapes[BS.jawOpen]);
      return params;
    };
    if (!this.stage) return;
    this.view = new AvatarView(this.stage, { source, maxFps: 60 });
    const avatar = this.cfg.avatar || { kind: "2d", key: "builtin:fox" };
    const fallbackKey = avatar.kind === "2d" ? avatar.key : "builtin:fox";
    this.view.show2d(fallbackKey);
    this.view.start();
    if (avatar.kind === "vrm" && avatar.url) {
      fetch(avatar.url, { credentials: "same-origin" })
        .then((res) => (res.ok ? res.arrayBuffer() : Promise.reject(new Error(String(res.status)))))
        .then((buffer) => this.view.showVrm(buffer, { fallbackKey }))
        .catch((err) => console.warn("avatar download failed; showing the 2D face", err));
    }
  }

  // The badge's label comes from the server's one emotion table (chat-strings "emotion"), the
  // same labels the page was rendered with.
  setEmotion(name) {
    this.animator.setEmotion(name, performance.now());
    if (this.emotionBadge) {
      this.emotionBadge.textContent = (this.t.emotion && this.t.emotion[name]) || name;
      this.emotionBadge.dataset.emotion = name;
    }
  }

  // --- socket ---------------------------------------------------------------------------------
  connect() {
    this.ws = new ReconnectingSocket(wsUrl(this.cfg.wsPath), {
      backoff: { baseMs: 500, factor: 2, maxMs: 15000 },
      terminalCodes: [4401, 4404], // not allowed: reconnecting won't help
      onConnecting: () => {
        this.ready = false;
      },
      onOpen: ({ attempt }) => {
        if (attempt > 0) this.setStatus(this.t.reconnected || "");
      },
      onMessage: (frame) => this.onFrame(frame),
      onClose: ({ terminal }) => {
        this.ready = false;
        if (terminal) return;
        if (this.pending) this.finishPending("failed");
        this.setStatus(this.t.connectionLost || "");
      },
    });
    this.ws.connect();
  }

  onFrame(f) {
    switch (f.type) {
      case "ready":
        this.ready = true;
        if (!this.pending && !this.awaiting) this.setBusy(Boolean(f.busy));
        break;
      case "accepted":
        this.onAccepted(f);
        break;
      case "queued":
        this.setStatus(format(this.t.queued, { position: f.position }));
        break;
      case "start":
        this.setStatus(format(this.t.thinking, { name: this.cfg.characterName }));
        break;
      case "emotion":
        this.setEmotion(f.emotion);
        break;
      case "token":
        this.onToken(f.text);
        break;
      case "done":
        this.onDone(f.message, "complete");
        break;
      case "cancelled":
        this.onDone(f.message, "cancelled");
        break;
      case "message":
        this.onOtherTab(f.message);
        break;
      case "error":
        this.onError(f);
        break;
      default:
        break;
    }
  }

  send() {
    const text = this.input.value.trim();
    if (!text || this.busy) return;
    if (!this.ws.isOpen || !this.ready) {
      this.setStatus((this.ws.active ? this.t.connecting : this.t.connectionLost) || "");
      return;
    }
    const frame = { type: "send", text };
    if (this.modelSelect && this.modelSelect.value) frame.model = this.modelSelect.value;
    this.ws.send(frame);
    this.lastSent = text;
    this.input.value = "";
    this.awaiting = true;
    this.setBusy(true);
  }

  stop() {
    if (!this.ws.send({ type: "cancel" })) {
      fetch(this.cfg.cancelUrl, { method: "POST", credentials: "same-origin", headers: withCsrf() });
    }
  }

  onAccepted(f) {
    this.awaiting = false;
    const userEl = this.appendMessage(f.user_message);
    const el = this.appendMessage({ role: "assistant", text: "", status: "streaming", seq: f.user_message.seq + 1 });
    this.pending = { replyId: f.reply_id, el, textEl: el.querySelector(".msg-text"), userEl, text: "" };
    this.animator.setSpeaking(true);
    this.setStatus(format(this.t.thinking, { name: this.cfg.characterName }));
  }

  onToken(text) {
    if (!this.pending) return;
    this.pending.text += text;
    this.pending.textEl.textContent = this.pending.text;
    if (!(this.voice && this.voice.active)) this.textVisemes.feed(text, performance.now());
    this.setStatus("");
    this.scrollToEnd();
  }

  onDone(message, status) {
    if (this.pending) {
      if (message) {
        this.pending.textEl.textContent = message.text;
        this.pending.el.dataset.seq = String(message.seq);
        if (message.emotion) this.setEmotion(message.emotion);
        // A reply the loop detector ended: its text (above) stops before the repetition.
        if (message.error_code === "reply_loop_cut") this.addCutNote(this.pending.el);
      } else if (status === "cancelled" && !this.pending.text) {
        this.pending.el.remove();
      }
      this.finishPending(status);
    }
    this.setStatus(status === "cancelled" ? this.t.stopped || "" : "");
  }

  finishPending(status) {
    const p = this.pending;
    this.pending = null;
    if (p && p.el.isConnected) {
      p.el.classList.remove("msg-streaming");
      if (status !== "complete") {
        p.el.classList.add(`msg-${status}`);
        if (status === "cancelled") this.addNote(p.el, this.t.stopped || "");
      }
    }
    this.animator.setSpeaking(false);
    if (status !== "complete") this.textVisemes.clear(); // stopped or failed: the mouth closes now
    this.setBusy(false);
  }

  onError(f) {
    this.awaiting = false;
    const details = f.details || {};
    if (this.pending && details.reply_id === this.pending.replyId) {
      if (details.text) {
        // Nothing was written: the exchange was removed; give the text back.
        this.pending.el.remove();
        this.pending.userEl.remove();
        this.input.value = details.text;
      }
      this.finishPending("failed");
    } else if (!this.pending && this.busy && this.lastSent && !this.input.value) {
      this.input.value = this.lastSent; // refused before it started (busy, plan limit...)
      this.setBusy(f.code === "reply_in_progress");
    }
    this.setStatus(f.message || f.code, true);
  }

  onOtherTab(message) {
    if (!message || this.log.querySelector(`[data-seq="${message.seq}"]`)) return;
    this.appendMessage(message);
    if (message.role === "assistant" && message.emotion) this.setEmotion(message.emotion);
    this.scrollToEnd();
  }

  setBusy(busy) {
    this.busy = busy;
    this.sendButton.disabled = busy;
    this.stopButton.hidden = !busy;
  }

  setStatus(text, isError = false) {
    this.status.textContent = text || "";
    this.status.classList.toggle("error", Boolean(isError && text));
  }

  // --- transcript -----------------------------------------------------------------------------
  messageElement(m) {
    const li = document.createElement("li");
    li.className = `msg msg-${m.role}`;
    if (m.status && m.status !== "complete") li.classList.add(`msg-${m.status}`);
    if (m.seq) li.dataset.seq = String(m.seq);
    const who = document.createElement("span");
    who.className = "msg-who";
    who.textContent = m.role === "user" ? this.t.you || "You" : this.cfg.characterName;
    const text = document.createElement("div");
    text.className = "msg-text";
    text.textContent = m.text || "";
    li.append(who, text);
    if (m.status === "cancelled") this.addNote(li, this.t.stopped || "");
    if (m.error_code === "reply_loop_cut") this.addCutNote(li);
    return li;
  }

  addNote(li, text) {
    const note = document.createElement("span");
    note.className = "msg-note";
    note.textContent = text;
    li.appendChild(note);
    return note;
  }

  addCutNote(li) {
    if (li.querySelector('[data-cut="loop"]')) return;
    this.addNote(li, this.t.cutLoop || "").dataset.cut = "loop";
  }

  appendMessage(m) {
    const li = this.messageElement(m);
    this.log.appendChild(li);
    this.scrollToEnd(true);
    return li;
  }

  async loadOlder() {
    if (!Number.isFinite(this.oldestSeq)) return;
    try {
      const res = await fetch(`${this.cfg.messagesUrl}?before=${this.oldestSeq}&limit=50`, { credentials: "same-origin" });
      if (!res.ok) throw new Error(String(res.status));
      const body = await res.json();
      const first = this.log.firstElementChild;
      for (const m of body.results) this.log.insertBefore(this.messageElement(m), first);
      if (body.results.length) this.oldestSeq = body.results[0].seq;
      this.olderButton.hidden = !body.has_older;
    } catch {
      this.setStatus(this.t.olderFailed || "", true);
    }
  }

  async changeModel() {
    const res = await fetch(this.cfg.conversationUrl, {
      method: "PATCH",
      credentials: "same-origin",
      headers: withCsrf({ "Content-Type": "application/json" }),
      body: JSON.stringify({ model: this.modelSelect.value }),
    });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      this.setStatus(body.message || String(res.status), true);
    }
  }

  scrollToEnd(force = false) {
    const el = this.log;
    if (force || el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }
}
