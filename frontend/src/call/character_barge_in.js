// Instant barge-in in a call with a character: the page's own Silero VAD on the call's
// microphone (chat/browser_vad.js, the chat page's rule and constants) sends `barge_in` on the
// character's `voice` channel when the person talks over it (docs/voice-protocol.md, section 5).
// The echo guard's reference is the character's voice as this page receives it. Without it the
// voice worker's own 256 ms rule still interrupts: a VAD that cannot load costs only speed.
import { RecentLevel } from "../chat/barge_detector.js";

export class CharacterBargeIn {
  /** @param {{vadBase:string, micStream:()=>MediaStream|null, speaking:()=>boolean, stats:object}} opts */
  constructor({ vadBase, micStream, speaking, stats }) {
    this.vadBase = vadBase;
    this.micStream = micStream;
    this.speaking = speaking;
    this.stats = stats; // shared with the stats panel: browserVad, bargeInsSent
    this.stats.browserVad = "off";
    this.stats.bargeInsSent = 0;
    this.output = new RecentLevel();
    this.analyser = null;
    this.channel = null;
    this.vad = null;
  }

  /** The character's voice arrived (the remote audio stream): measure it for the echo guard. */
  watchOutput(stream) {
    if (!this.ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      this.ctx = new Ctx();
    }
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

  /** The character's `voice` channel opened: start listening for the person talking over it. */
  async attach(channel) {
    this.channel = channel;
    const stream = this.micStream();
    if (this.vad || !this.vadBase || !stream) return;
    this.stats.browserVad = "loading";
    try {
      const { startBrowserVad } = await import("../chat/browser_vad.js");
      if (!this.ctx) {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        this.ctx = new Ctx();
      }
      const { vad } = await startBrowserVad({
        stream,
        assetBase: new URL(this.vadBase, location.href).href,
        audioContext: this.ctx,
        state: { speaking: this.speaking, outputLevel: () => this.outputLevel() },
        onBargeIn: () => this.send(),
      });
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
    this.vad = this.ctx = this.analyser = this.channel = null;
    this.stats.browserVad = "off";
  }
}
