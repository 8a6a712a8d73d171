// Instant barge-in for a page that talks with a character (the chat page's Talk, a call with a
// character): the page's own Silero VAD (browser_vad.js) on its microphone sends `barge_in` on
// the character's `voice` DataChannel when the person talks over it (docs/voice-protocol.md,
// section 5). The echo guard's reference is the character's voice as this page receives it,
// read at each VAD frame (paced by the audio thread, so it holds in a background tab). If the
// VAD cannot load, the voice worker's own 256 ms rule still interrupts: only speed is lost.
import { RecentLevel } from "./barge_detector.js";

function newAudioContext() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  return new Ctx();
}

export class PageBargeIn {
  /** @param {{vadBase:string, micStream:()=>MediaStream|null, speaking:()=>boolean, stats:object}} opts
   * `stats` (shown to tests and the stats panel) gets browserVad ("off", "loading", "on" or
   * "off: why") and bargeInsSent. */
  constructor({ vadBase, micStream, speaking, stats }) {
    this.vadBase = vadBase;
    this.micStream = micStream;
    this.speaking = speaking;
    this.stats = stats;
    this.stats.browserVad = "off";
    this.stats.bargeInsSent = 0;
    this.output = new RecentLevel();
    this.ctx = this.analyser = this.channel = this.vad = null;
  }

  /** The character's voice (the remote audio stream): measure it for the echo guard. */
  watchOutput(stream) {
    this.ctx = this.ctx || newAudioContext();
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 512;
    this.ctx.createMediaStreamSource(stream).connect(this.analyser);
    this.buf = new Float32Array(this.analyser.fftSize);
  }

  outputLevel() {
    if (this.analyser) {
      this.analyser.getFloatTimeDomainData(this.buf);
      let sum = 0;
      for (const v of this.buf) sum += v * v;
      this.output.note(Math.sqrt(sum / this.buf.length));
    }
    return this.output.loudest();
  }

  /** The character's `voice` channel: start listening for the person talking over it. */
  async attach(channel) {
    this.channel = channel;
    const stream = this.micStream();
    if (this.vad || !this.vadBase || !stream) return;
    this.stats.browserVad = "loading";
    try {
      // Loaded on first use: onnxruntime-web is ~370 KB a page without voice never needs.
      const { startBrowserVad } = await import("./browser_vad.js");
      this.ctx = this.ctx || newAudioContext();
      const { vad } = await startBrowserVad({
        stream,
        assetBase: new URL(this.vadBase, location.href).href,
        audioContext: this.ctx,
        state: { speaking: this.speaking, outputLevel: () => this.outputLevel() },
        onBargeIn: () => this.send(),
      });
      if (this.channel !== channel) return vad.destroy(); // stopped while it loaded
      this.vad = vad;
      this.stats.browserVad = "on";
    } catch (err) {
      this.stats.browserVad = `off: ${err && err.message ? err.message : err}`;
    }
  }

  send() {
    if (!this.channel || this.channel.readyState !== "open") return;
    this.channel.send(JSON.stringify({ type: "barge_in" }));
    this.stats.bargeInsSent += 1;
  }

  stop() {
    if (this.vad) this.vad.destroy().catch(() => {});
    if (this.ctx) this.ctx.close().catch(() => {});
    this.output.clear();
    this.ctx = this.analyser = this.channel = this.vad = null;
    this.stats.browserVad = "off";
  }
}
