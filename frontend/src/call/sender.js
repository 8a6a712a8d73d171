// Our parameter frames out: every new parameter set (tracking or idle) is encoded as a frame
// (docs/protocol.md section 1: version 2 with the body section at BODY_RATE_HZ when the other
// side decodes it and a body tracker runs, else version 1), fed to the local preview (which shows exactly what we
// send, quantized) and sent at once over the "params" DataChannel. No send timer: a timer would
// add up to one period of latency. A token bucket keeps the average at SEND_RATE_HZ without
// dropping a result that comes early after a late one (tracking times jitter on a busy machine;
// dropping the newest pose would show the old one for a period more).
import { frameFields } from "../avatar/params.js";
import { FRAME_BYTES, FRAME_V2_BODY_BYTES, encodeFrame } from "./frame_codec.js";

export const SEND_RATE_HZ = 30; // parameter frames per second at most (camera rate)
export const SEND_BURST = 2; // tokens a quiet moment can save up
const MIN_TOKENS = 0.9; // camera frames come a hair faster than 30 Hz now and then
const MAX_BUFFERED = 4096; // a congested channel drops frames instead of queueing stale ones
// The body section rides on every other frame: arms move slower than lips and eyes, and the 106
// bytes cost less at half rate. Adaptive quality lowers this first, then sets it to 0 (off).
export const BODY_RATE_HZ = 15;

export class ParamSender {
  /**
   * @param {{getChannel:()=>RTCDataChannel|null, localReceiver?:{push:Function, expressions:object},
   *          now?:()=>number, getVersion?:()=>number}} opts  getChannel: the open "params" channel,
   *          or null; getVersion: the frame version the other side decodes (1 or 2)
   */
  constructor({ getChannel, localReceiver = null, now = () => performance.now(), getVersion = () => 1 }) {
    this.getChannel = getChannel;
    this.localReceiver = localReceiver;
    this.now = now;
    this.getVersion = getVersion;
    this.bodyRateHz = BODY_RATE_HZ;
    this.lastBodyAt = -Infinity;
    this.bodyFramesSent = 0;
    this.lastBytes = 0;
    this.buf = new Uint8Array(FRAME_BYTES);
    this.bodyBuf = new Uint8Array(FRAME_V2_BODY_BYTES);
    this.v1Buf = new Uint8Array(FRAME_BYTES);
    this.seq = 0;
    this.tokens = SEND_BURST;
    this.lastRefill = -Infinity;
    this.framesSent = 0;
    this.lastFaceLost = false;
  }

  /**
   * Encode and send `params` (speaking and expressions already set) captured at `captureTs`
   * (ms, the sender clock written into the frame). Returns the frame's bytes, or null when the
   * rate limit skipped it.
   */
  push(params, captureTs) {
    const now = this.now();
    this.tokens = Math.min(SEND_BURST, this.tokens + ((now - this.lastRefill) * SEND_RATE_HZ) / 1000);
    this.lastRefill = now;
    if (this.tokens < MIN_TOKENS) return null;
    this.tokens -= 1;
    this.seq = (this.seq + 1) % 65536;
    const version = this.getVersion() === 2 ? 2 : 1;
    // 0.8 of a period: frames come at ~30 Hz, so 15 Hz means every other one despite jitter.
    const withBody = params.hasBody && this.bodyRateHz > 0 && now - this.lastBodyAt >= (800 / this.bodyRateHz);
    if (withBody) this.lastBodyAt = now;
    // Our own preview always decodes version 2 (it shows our body even to a version 1 peer).
    const fields = frameFields(params, this.seq, captureTs, { version: 2, withBody });
    const own = encodeFrame(fields, fields.body ? this.bodyBuf : this.buf);
    const bytes = version === 2 ? own : encodeFrame(frameFields(params, this.seq, captureTs), this.v1Buf);
    const sentBody = version === 2 && fields.body !== null;
    this.lastBytes = bytes.length;
    if (this.localReceiver) {
      this.localReceiver.push(own.slice().buffer);
      this.localReceiver.expressions = params.expressions;
    }
    this.lastFaceLost = params.faceLost;
    const ch = this.getChannel();
    if (ch && ch.bufferedAmount < MAX_BUFFERED) {
      ch.send(bytes);
      this.framesSent += 1;
      if (sentBody) this.bodyFramesSent += 1;
    }
    return bytes;
  }
}
