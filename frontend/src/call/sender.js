// Our parameter frames out: every new parameter set (tracking or idle) is encoded as a version-1
// frame (docs/protocol.md section 1), fed to the local preview (which shows exactly what we
// send, quantized) and sent at once over the "params" DataChannel. No send timer: a timer would
// add up to one period of latency. A token bucket keeps the average at SEND_RATE_HZ without
// dropping a result that comes early after a late one (tracking times jitter on a busy machine;
// dropping the newest pose would show the old one for a period more).
import { frameFields } from "../avatar/params.js";
import { FRAME_BYTES, encodeFrame } from "./frame_codec.js";

export const SEND_RATE_HZ = 30; // parameter frames per second at most (camera rate)
export const SEND_BURST = 2; // tokens a quiet moment can save up
const MIN_TOKENS = 0.9; // camera frames come a hair faster than 30 Hz now and then
const MAX_BUFFERED = 4096; // a congested channel drops frames instead of queueing stale ones

export class ParamSender {
  /**
   * @param {{getChannel:()=>RTCDataChannel|null, localReceiver?:{push:Function, expressions:object},
   *          now?:()=>number}} opts  getChannel: the open "params" channel, or null
   */
  constructor({ getChannel, localReceiver = null, now = () => performance.now() }) {
    this.getChannel = getChannel;
    this.localReceiver = localReceiver;
    this.now = now;
    this.buf = new Uint8Array(FRAME_BYTES);
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
    const bytes = encodeFrame(frameFields(params, this.seq, captureTs), this.buf);
    if (this.localReceiver) {
      this.localReceiver.push(bytes.slice().buffer);
      this.localReceiver.expressions = params.expressions;
    }
    this.lastFaceLost = params.faceLost;
    const ch = this.getChannel();
    if (ch && ch.bufferedAmount < MAX_BUFFERED) {
      ch.send(bytes);
      this.framesSent += 1;
    }
    return bytes;
  }
}
