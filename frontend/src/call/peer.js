// One WebRTC peer connection of a call: the microphone as an audio track (never video: the
// camera image stays on this device), and three DataChannels:
//   "params"  unordered, maxRetransmits 0: binary parameter frames (a late frame is useless)
//   "control" reliable JSON: clock sync ping/pong, held expressions, asset requests
//   "asset"   reliable binary: the VRM file of our avatar when the other side doesn't have it
// The side told `initiator` by the server creates the channels and sends the offer.
// No DOM: the RTCPeerConnection (and the MediaStream used when a track arrives without one) come
// from injectable factories, so call/session.js runs in node against fakes.

const defaultCreatePc = (config) => new RTCPeerConnection(config);
const defaultCreateStream = (tracks) => new MediaStream(tracks);

export class CallPeer {
  /**
   * @param {{iceServers:Array, micTrack:MediaStreamTrack|null, sendSignal:(msg:object)=>void,
   *          onState:(state:string)=>void, onChannel:(label:string, ch:RTCDataChannel)=>void,
   *          onRemoteAudio:(stream:MediaStream)=>void,
   *          createPeerConnection?:(config:object)=>RTCPeerConnection,
   *          createStream?:(tracks:MediaStreamTrack[])=>MediaStream}} opts
   */
  constructor({ iceServers, micTrack, sendSignal, onState, onChannel, onRemoteAudio, createPeerConnection = defaultCreatePc, createStream = defaultCreateStream }) {
    this.sendSignal = sendSignal;
    this.onState = onState;
    this.onChannel = onChannel;
    this.onRemoteAudio = onRemoteAudio;
    this.micTrack = micTrack;
    this.channels = {};
    this.pendingCandidates = [];
    this.closed = false;
    const pc = createPeerConnection({ iceServers: iceServers || [] });
    this.pc = pc;
    pc.onicecandidate = (e) => {
      this.sendSignal({ type: "candidate", candidate: e.candidate ? e.candidate.toJSON() : null });
    };
    pc.onconnectionstatechange = () => this.onState(pc.connectionState);
    pc.ontrack = (e) => {
      if (e.track.kind !== "audio") return; // nothing else is expected; never render video
      const stream = e.streams && e.streams[0] ? e.streams[0] : createStream([e.track]);
      this.onRemoteAudio(stream);
    };
    pc.ondatachannel = (e) => this._adopt(e.channel);
  }

  _adopt(ch) {
    ch.binaryType = "arraybuffer";
    this.channels[ch.label] = ch;
    this.onChannel(ch.label, ch);
  }

  /** Initiator: audio, channels, offer. */
  async startAsInitiator() {
    const pc = this.pc;
    const tr = pc.addTransceiver("audio", { direction: "sendrecv" });
    if (this.micTrack) await tr.sender.replaceTrack(this.micTrack);
    this._adopt(pc.createDataChannel("params", { ordered: false, maxRetransmits: 0 }));
    this._adopt(pc.createDataChannel("control", { ordered: true }));
    this._adopt(pc.createDataChannel("asset", { ordered: true }));
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.sendSignal({ type: "offer", sdp: pc.localDescription.sdp });
  }

  /** Answerer: take the offer, attach our microphone to its audio transceiver, answer. */
  async acceptOffer(sdp) {
    const pc = this.pc;
    await pc.setRemoteDescription({ type: "offer", sdp });
    await this._flushCandidates();
    for (const tr of pc.getTransceivers()) {
      if (tr.receiver.track && tr.receiver.track.kind === "audio") {
        tr.direction = "sendrecv";
        if (this.micTrack) await tr.sender.replaceTrack(this.micTrack);
        break;
      }
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.sendSignal({ type: "answer", sdp: pc.localDescription.sdp });
  }

  async acceptAnswer(sdp) {
    if (this.pc.signalingState !== "have-local-offer") return;
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    await this._flushCandidates();
  }

  async addCandidate(candidate) {
    if (!this.pc.remoteDescription) {
      this.pendingCandidates.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate || null);
    } catch (err) {
      console.warn("ICE candidate refused", err);
    }
  }

  async _flushCandidates() {
    const list = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const c of list) await this.addCandidate(c);
  }

  /** Swap the microphone track (mute uses track.enabled instead, without renegotiation). */
  async setMicTrack(track) {
    this.micTrack = track;
    for (const s of this.pc.getSenders()) {
      if (!s.track || s.track.kind === "audio") await s.replaceTrack(track);
    }
  }

  /** Kinds of tracks this connection sends (the tests assert there is no "video"). */
  senderKinds() {
    return this.pc.getSenders().map((s) => (s.track ? s.track.kind : null)).filter(Boolean);
  }

  /** Current round-trip time in ms from the selected ICE candidate pair, or null. */
  async rttMs() {
    try {
      const stats = await this.pc.getStats();
      let rtt = null;
      stats.forEach((r) => {
        if (r.type === "candidate-pair" && (r.nominated || r.selected) && r.state === "succeeded" && typeof r.currentRoundTripTime === "number") {
          rtt = r.currentRoundTripTime * 1000;
        }
      });
      return rtt;
    } catch {
      return null;
    }
  }

  close() {
    this.closed = true;
    for (const ch of Object.values(this.channels)) {
      try {
        ch.close();
      } catch {
        /* already closed */
      }
    }
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}
