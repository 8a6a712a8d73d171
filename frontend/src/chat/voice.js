// Talk button of the conversation page: a voice conversation with the character
// (docs/voice-protocol.md). The mic goes to a voice worker over WebRTC; the character's voice
// comes back as an audio track; events (transcripts, emotion, visemes, interrupt) arrive on the
// `voice` DataChannel. Visemes drive the avatar's mouth on the playout clock (visemes.js).
// Text from the server is only ever put in the page with textContent.
import { VisemeTimeline } from "./visemes.js";
import { wsUrl } from "../ws.js";

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
    this.notice = root.querySelector("[data-voice-notice]");
    this.audio = root.querySelector("[data-voice-audio]");
    this.timeline = new VisemeTimeline();
    this.active = false;
    this.muted = false;
    this.holding = false;
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
    return this.timeline.at(now);
  }

  say(text) {
    if (this.notice) this.notice.textContent = text || "";
  }

  caption(who, text) {
    const line = document.createElement("p");
    const name = document.createElement("strong");
    name.textContent = `${who}: `;
    line.append(name, document.createTextNode(text));
    this.captions.append(line);
    while (this.captions.childElementCount > 6) this.captions.firstElementChild.remove();
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
    this.pc.ontrack = (ev) => {
      this.audio.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      this.audio.play().catch(() => {});
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

  onEvent(e) {
    switch (e.type) {
      case "final_transcript":
        this.caption(this.t.you, e.text);
        break;
      case "emotion":
        this.onEmotion(e.emotion);
        break;
      case "visemes":
        this.timeline.add(e, performance.now());
        this.caption(this.cfg.characterName, e.text);
        break;
      case "interrupt":
        this.timeline.clear();
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
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += v * v;
      this.meter.value = Math.min(1, Math.sqrt(sum / data.length) * 4);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  hangUp(clearNotice = true) {
    this.active = false;
    this.timeline.clear();
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "end" }));
    if (this.ws) this.ws.close();
    if (this.pc) this.pc.close();
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    if (this.meterCtx) this.meterCtx.close();
    this.ws = this.pc = this.stream = this.meterCtx = null;
    this.button.textContent = this.t.talk;
    this.button.setAttribute("aria-pressed", "false");
    this.muteButton.hidden = true;
    if (this.meter) this.meter.value = 0;
    if (clearNotice) this.say("");
  }
}
