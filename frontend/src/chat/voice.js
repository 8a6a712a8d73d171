// Talk button of the conversation page: a voice conversation with the character
// (docs/voice-protocol.md). The mic goes to a voice worker over WebRTC; the character's voice
// comes back as an audio track; events (transcripts, emotion, visemes, interrupt) arrive on the
// `voice` DataChannel. Visemes drive the avatar's mouth on the playout clock (visemes.js).
// Text from the server is only ever put in the page with textContent.
import { VisemeTimeline } from "./visemes.js";
import { wsUrl } from "../ws.js";
import { PageBargeIn } from "./page_barge_in.js";

const MAX_SAMPLES = 6000; // ~100 s of animation frames
const DELAY_POLL_MS = 250;
const OUTPUT_LATENCY_MS = 20; // decoding and the audio output after the jitter buffer

function rms(analyser, data) {
  analyser.getFloatTimeDomainData(data);
  let sum = 0;
  for (const v of data) sum += v * v;
  return Math.sqrt(sum / data.length);
}

export class VoiceTalk {
  constructor(root, cfg, t, { onEmotion } = {}) {
    this.cfg = cfg;
    this.t = t;
    this.onEmotion = onEmotion || (() => {});
    this.button = root.querySelector("[data-voice-talk]");
    this.muteButton = root.querySelector("[data-voice-mute]");
    this.pttBox = root.querySelector("[data-voice-ptt]");
    this.meter = root.querySelector("[data-voice-level]");
    this.captions = root.querySelector("[data-voice-captions]");
    this.replyLine = null; // the caption line of the reply being spoken (its clauses read on)
    this.notice = root.querySelector("[data-voice-notice]");
    this.audio = root.querySelector("[data-voice-audio]");
    this.timeline = new VisemeTimeline();
    this.active = false;
    this.muted = false;
    this.holding = false;
    // Read-only numbers for the browser test and debugging (window.__chatPage.voice.stats):
    // the avatar's jaw opening and the loudness of the character's voice as played, per
    // animation frame while a voice conversation is on (the last MAX_SAMPLES of them).
    this.stats = {
      jaw: 0, outputLevel: 0, speaking: false, playoutDelayMs: this.timeline.playoutDelayMs, samples: [], clauses: [],
      interrupts: [],
    };
    this.outputAnalyser = null;
    // Instant barge-in from the page's own VAD (stats.browserVad, stats.bargeInsSent).
    this.barge = new PageBargeIn({
      vadBase: cfg.vadBase, micStream: () => this.stream, speaking: () => this.stats.speaking, stats: this.stats,
    });
  }

  start() {
    if (!this.button) return;
    this.button.addEventListener("click", () => (this.active ? this.hangUp() : this.call()));
    this.muteButton.addEventListener("click", () => this.setMuted(!this.muted));
    this.pttBox.addEventListener("change", () => this.applyMic());
    const hold = (on) => {
      this.holding = on;
      this.applyMic();
    };
    this.button.addEventListener("pointerdown", () => this.pttBox.checked && this.active && hold(true));
    this.button.addEventListener("pointerup", () => hold(false));
    document.addEventListener("keydown", (ev) => ev.code === "Space" && this.pttBox.checked && this.active && hold(true));
    document.addEventListener("keyup", (ev) => ev.code === "Space" && hold(false));
  }

  /** The mouth for the avatar animator: {viseme, weight} now. */
  mouth(now = performance.now()) {
    return this.timeline.at(now, this.playedRtp(now));
  }

  /** The RTP timestamp of the character's audio being played out now, from the receiver's
   * synchronization source (null when the browser does not say). Extrapolated a little between
   * the receiver's 10 ms updates, never across a stall. */
  playedRtp(now) {
    const receiver = this.receiver;
    if (!receiver || !receiver.getSynchronizationSources) return null;
    const source = receiver.getSynchronizationSources()[0];
    if (!source || !Number.isFinite(source.rtpTimestamp) || !Number.isFinite(source.timestamp)) return null;
    // `timestamp` is on the performance clock or, in older browsers, the epoch clock.
    const clock = source.timestamp > 1e12 ? performance.timeOrigin + now : now;
    const elapsed = Math.min(30, Math.max(0, clock - source.timestamp));
    return (source.rtpTimestamp + Math.round(elapsed * 48)) >>> 0;
  }

  /** The animator applied `jaw` (0..1) at `now`: kept with the voice's level for the stats. */
  record(now, jaw) {
    this.stats.jaw = jaw;
    if (!this.active) return;
    const samples = this.stats.samples;
    samples.push([now, jaw, this.stats.outputLevel]);
    if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
  }

  say(text) {
    if (this.notice) this.notice.textContent = text || "";
  }

  /** A caption line; `partial` lines (what the user is saying, still being heard) are replaced
   * by the next partial or the final transcript instead of piling up. */
  caption(who, text, { partial = false } = {}) {
    this.replyLine = null; // the user spoke: the character's next clause starts a new reply
    let line = who === this.t.you ? this.captions.querySelector("p[data-partial]") : null;
    if (!line) {
      line = document.createElement("p");
      this.captions.append(line);
    }
    const name = document.createElement("strong");
    name.textContent = `${who}: `;
    line.replaceChildren(name, document.createTextNode(text));
    line.toggleAttribute("data-partial", partial);
    while (this.captions.childElementCount > 6) this.captions.firstElementChild.remove();
    return line;
  }

  /** The character's clauses of one reply read on as one caption, as they are heard. */
  replyCaption(text) {
    if (this.replyLine && this.replyLine.isConnected) {
      this.replyLine.append(document.createTextNode(` ${text}`));
      return;
    }
    this.replyLine = this.caption(this.cfg.characterName, text);
  }

  async call() {
    this.say(this.t.voiceConnecting);
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (err) {
      this.say(this.t.micRefused);
      return;
    }
    this.active = true;
    this.button.textContent = this.t.hangUp;
    this.button.setAttribute("aria-pressed", "true");
    this.muteButton.hidden = false;
    this.startMeter();
    this.applyMic();
    const path = `${this.cfg.voicePath}?language=${encodeURIComponent(this.cfg.voiceLanguage)}&transport=webrtc`;
    this.ws = new WebSocket(wsUrl(path));
    this.ws.onmessage = (msg) => this.onSocket(JSON.parse(msg.data));
    this.ws.onclose = () => this.active && this.hangUp();
  }

  async onSocket(f) {
    if (f.type === "ready") {
      await this.connectRtc();
    } else if (f.type === "answer") {
      await this.pc.setRemoteDescription({ type: "answer", sdp: f.sdp });
      this.say(this.t.voiceListening);
    } else if (f.type === "error") {
      this.say(f.code === "no_voice_worker" ? this.t.noVoiceWorker : f.message);
      if (f.code === "no_voice_worker" || f.code === "not_found") this.hangUp(false);
    } else if (f.type === "ended") {
      this.hangUp();
    } else {
      this.onEvent(f);
    }
  }

  async connectRtc() {
    this.pc = new RTCPeerConnection({ iceServers: this.cfg.iceServers || [] });
    for (const track of this.stream.getAudioTracks()) this.pc.addTrack(track, this.stream);
    this.channel = this.pc.createDataChannel("voice");
    this.channel.onmessage = (msg) => this.onEvent(JSON.parse(msg.data));
    this.barge.attach(this.channel);
    this.pc.ontrack = (ev) => {
      this.receiver = ev.receiver;
      const stream = ev.streams[0] || new MediaStream([ev.track]);
      this.audio.srcObject = stream;
      this.audio.play().catch(() => {});
      this.watchOutput(stream);
      this.barge.watchOutput(stream);
      this.delayTimer = setInterval(() => this.measurePlayoutDelay(), DELAY_POLL_MS);
    };
    await this.pc.setLocalDescription(await this.pc.createOffer());
    // aiortc does not trickle: send the offer with every candidate gathered.
    await new Promise((resolve) => {
      if (this.pc.iceGatheringState === "complete") return resolve();
      this.pc.addEventListener("icegatheringstatechange", () => this.pc.iceGatheringState === "complete" && resolve());
      setTimeout(resolve, 3000);
    });
    this.ws.send(JSON.stringify({ type: "offer", sdp: this.pc.localDescription.sdp }));
  }

  /** How late the character's audio plays after it arrives: the receiver's jitter buffer delay
   * over the last poll (it grows when packets come in bursts, e.g. from a worker on a busy
   * machine, and shrinks again). Visemes are scheduled that long after their event arrives, so
   * the mouth stays on the audio's playout clock (measured: a fixed 100 ms guess left the mouth
   * 1.8 s ahead of the voice on a loaded 2-core machine). */
  async measurePlayoutDelay() {
    if (!this.pc) return;
    let report;
    try {
      report = await this.pc.getStats();
    } catch (err) {
      return;
    }
    report.forEach((s) => {
      if (s.type !== "inbound-rtp" || s.kind !== "audio" || s.jitterBufferEmittedCount === undefined) return;
      const prev = this.jitterBuffer;
      this.jitterBuffer = { delay: s.jitterBufferDelay, count: s.jitterBufferEmittedCount };
      if (!prev || this.jitterBuffer.count <= prev.count) return;
      const ms = (1000 * (this.jitterBuffer.delay - prev.delay)) / (this.jitterBuffer.count - prev.count);
      this.timeline.playoutDelayMs = Math.min(5000, Math.max(20, ms + OUTPUT_LATENCY_MS));
      this.stats.playoutDelayMs = this.timeline.playoutDelayMs;
    });
  }

  onEvent(e) {
    switch (e.type) {
      case "partial_transcript":
        this.caption(this.t.you, e.text, { partial: true });
        break;
      case "final_transcript":
        this.caption(this.t.you, e.text);
        break;
      case "bot_speaking":
        this.stats.speaking = Boolean(e.speaking);
        break;
      case "emotion":
        this.onEmotion(e.emotion);
        break;
      case "visemes":
        this.timeline.add(e, performance.now());
        this.stats.clauses.push([performance.now(), this.timeline.playoutDelayMs, e.duration_ms, e.rtp_timestamp ?? null]);
        this.replyCaption(e.text);
        break;
      case "interrupt":
        this.replyLine = null;
        this.timeline.clear();
        this.stats.interrupts.push(e.reason);
        break;
      case "error":
        this.say(e.message);
        break;
      default:
        break;
    }
  }

  setMuted(muted) {
    this.muted = muted;
    this.muteButton.textContent = muted ? this.t.unmute : this.t.mute;
    this.muteButton.setAttribute("aria-pressed", String(muted));
    this.applyMic();
  }

  applyMic() {
    const on = !this.muted && (!this.pttBox.checked || this.holding);
    for (const track of this.stream ? this.stream.getAudioTracks() : []) track.enabled = on;
  }

  startMeter() {
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(this.stream).connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    this.meterCtx = ctx;
    const tick = () => {
      if (!this.active) return;
      this.meter.value = Math.min(1, rms(analyser, data) * 4);
      if (this.outputAnalyser) this.stats.outputLevel = rms(this.outputAnalyser, data);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  /** Measure the character's voice as received (the <audio> element plays it; Chromium feeds a
   * remote stream into Web Audio only while a media element also plays it). */
  watchOutput(stream) {
    if (!this.meterCtx) return;
    const analyser = this.meterCtx.createAnalyser();
    analyser.fftSize = 512;
    this.meterCtx.createMediaStreamSource(stream).connect(analyser);
    this.outputAnalyser = analyser;
  }

  hangUp(clearNotice = true) {
    this.active = false;
    clearInterval(this.delayTimer);
    this.jitterBuffer = null;
    this.timeline.clear();
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "end" }));
    if (this.ws) this.ws.close();
    if (this.pc) this.pc.close();
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.barge.stop();
    if (this.meterCtx) this.meterCtx.close();
    this.ws = this.pc = this.stream = this.meterCtx = this.outputAnalyser = this.receiver = null;
    this.stats.outputLevel = 0;
    this.stats.speaking = false;
    this.button.textContent = this.t.talk;
    this.button.setAttribute("aria-pressed", "false");
    this.muteButton.hidden = true;
    if (this.meter) this.meter.value = 0;
    if (clearNotice) this.say("");
  }
}
