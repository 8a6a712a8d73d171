// Microphone (echo cancellation on) and a speaking detector: RMS level over ~20 ms windows with
// hysteresis and a short hangover, so words don't flicker the indicator.

/** The device id a track was opened on ("" when the browser does not say). */
export function trackDeviceId(track) {
  const settings = track && track.getSettings ? track.getSettings() : null;
  return (settings && settings.deviceId) || "";
}

/** `deviceId`: a microphone chosen in the picker; when it is gone the default one is opened. */
export async function openMic(deviceId = "") {
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (deviceId) {
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: { ...audio, deviceId: { exact: deviceId } }, video: false });
    } catch (err) {
      if (!err || (err.name !== "OverconstrainedError" && err.name !== "NotFoundError")) throw err;
    }
  }
  return navigator.mediaDevices.getUserMedia({ audio, video: false });
}

export class SpeakingDetector {
  /** @param {MediaStream} stream */
  constructor(stream, { on = 0.035, off = 0.02, hangMs = 300 } = {}) {
    this.on = on;
    this.off = off;
    this.hangMs = hangMs;
    this.speaking = false;
    this.level = 0;
    this._lastLoud = 0;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    this.ctx = new Ctx();
    this.source = this.ctx.createMediaStreamSource(stream);
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.buf = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
  }

  /** Update and return the speaking flag (call at frame rate). */
  update(enabled = true, now = performance.now()) {
    if (!enabled) {
      this.speaking = false;
      this.level = 0;
      return false;
    }
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (let i = 0; i < this.buf.length; i++) sum += this.buf[i] * this.buf[i];
    const rms = Math.sqrt(sum / this.buf.length);
    this.level = this.level * 0.7 + rms * 0.3;
    if (this.level > this.on) this._lastLoud = now;
    if (!this.speaking && this.level > this.on) this.speaking = true;
    else if (this.speaking && this.level < this.off && now - this._lastLoud > this.hangMs) this.speaking = false;
    return this.speaking;
  }

  close() {
    try {
      this.source.disconnect();
      this.ctx.close();
    } catch {
      /* already closed */
    }
  }
}
