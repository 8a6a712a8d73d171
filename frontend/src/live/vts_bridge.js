// VTube Studio bridge, run in the streamer's browser (the dashboard or the OBS source), because
// VTube Studio listens on the streamer's own machine (ws://localhost:8001). DOM-free: the
// WebSocket class and token storage are injected, so it runs in node tests against a fake VTS.
//
// Protocol (VTube Studio public API 1.0): AuthenticationTokenRequest once (the streamer approves
// a popup in VTS), AuthenticationRequest every session, ParameterCreationRequest for our custom
// parameters, then InjectParameterDataRequest re-sent continuously (VTS drops control of a
// parameter that is not re-sent within about a second), hotkeys/expressions for emotions.

const API = { apiName: "VTubeStudioPublicAPI", apiVersion: "1.0" };
// Our own input parameters (VTS default inputs such as FaceAngleX and MouthOpen need no creation).
export const CUSTOM_PARAMS = [
  { parameterName: "AFBodyLean", explanation: "AvatarForge live: body lean", min: -1, max: 1, defaultValue: 0 },
  { parameterName: "AFSmile", explanation: "AvatarForge live: smile", min: 0, max: 1, defaultValue: 0 },
  { parameterName: "AFBrowRaise", explanation: "AvatarForge live: brows", min: -1, max: 1, defaultValue: 0 },
  { parameterName: "AFBreath", explanation: "AvatarForge live: breathing", min: 0, max: 1, defaultValue: 0 },
];
// Pose-driver parameter -> VTS input parameter.
export const PARAM_MAP = {
  FaceAngleX: "FaceAngleX", FaceAngleY: "FaceAngleY", FaceAngleZ: "FaceAngleZ", MouthOpen: "MouthOpen",
  EyeX: "EyeRightX", BodyLean: "AFBodyLean", Smile: "AFSmile", BrowRaise: "AFBrowRaise", Breath: "AFBreath",
};

export class VtsBridge {
  constructor({
    url = "ws://localhost:8001", WebSocketImpl = globalThis.WebSocket, storage, pluginName = "AvatarForge Live",
    pluginDeveloper = "AvatarForge", injectHz = 10, onStatus = () => {}, setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (id) => clearTimeout(id),
    emotionMap = {},
  } = {}) {
    Object.assign(this, { url, WebSocketImpl, storage, pluginName, pluginDeveloper, injectHz, onStatus, setTimer, clearTimer, emotionMap });
    this.state = "off";
    this.pending = new Map();
    this.nextId = 1;
    this.values = {};
    this.hotkeys = new Map(); // name -> hotkeyID
    this.retry = 0;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.clearTimer(this.injectTimer);
    this.clearTimer(this.retryTimer);
    this.ws?.close();
    this.setState("off");
  }

  setState(state, detail = "") {
    this.state = state;
    this.onStatus(state, detail);
  }

  connect() {
    this.setState("connecting");
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch (err) {
      this.scheduleReconnect(String(err));
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.handshake().catch((err) => { this.setState("error", String(err.message || err)); ws.close(); });
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = () => {
      this.clearTimer(this.injectTimer);
      for (const { reject } of this.pending.values()) reject(new Error("VTube Studio closed the connection"));
      this.pending.clear();
      if (!this.stopped) this.scheduleReconnect("closed");
    };
    ws.onerror = () => {};
  }

  scheduleReconnect(detail) {
    this.setState("connecting", `retrying (${detail})`);
    const delay = Math.min(10_000, 500 * 2 ** this.retry) * (0.75 + Math.random() / 2);
    this.retry = Math.min(this.retry + 1, 6);
    this.retryTimer = this.setTimer(() => { if (!this.stopped) this.connect(); }, delay);
  }

  onMessage(raw) {
    let msg;
    try { msg = JSON.parse(String(raw)); } catch { return; }
    const waiter = this.pending.get(msg.requestID);
    if (!waiter) return;
    this.pending.delete(msg.requestID);
    if (msg.messageType === "APIError") waiter.reject(Object.assign(new Error(msg.data?.message || "VTS error"), { errorID: msg.data?.errorID }));
    else waiter.resolve(msg.data || {});
  }

  request(messageType, data = {}) {
    const requestID = `af-${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(requestID, { resolve, reject });
      this.ws.send(JSON.stringify({ ...API, requestID, messageType, data }));
    });
  }

  async handshake() {
    this.setState("authorizing");
    const plugin = { pluginName: this.pluginName, pluginDeveloper: this.pluginDeveloper };
    let token = this.storage?.get() || "";
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (!token) {
        token = (await this.request("AuthenticationTokenRequest", plugin)).authenticationToken || "";
        this.storage?.set(token);
      }
      const auth = await this.request("AuthenticationRequest", { ...plugin, authenticationToken: token });
      if (auth.authenticated) break;
      token = ""; // revoked or stale: ask for a new one once
      this.storage?.set("");
      if (attempt === 1) throw new Error(auth.reason || "VTube Studio refused the plugin");
    }
    for (const param of CUSTOM_PARAMS) await this.request("ParameterCreationRequest", param);
    const hotkeys = await this.request("HotkeysInCurrentModelRequest", {});
    this.hotkeys = new Map((hotkeys.availableHotkeys || []).map((h) => [h.name, h.hotkeyID]));
    this.retry = 0;
    this.setState("connected");
    this.injectLoop();
  }

  // Values from the pose driver: {FaceAngleX: .., MouthOpen: .., ...}
  setValues(values) {
    this.values = values;
  }

  injectLoop() {
    if (this.state !== "connected" || this.ws.readyState !== 1) return;
    const parameterValues = [];
    for (const [name, id] of Object.entries(PARAM_MAP)) {
      if (typeof this.values[name] === "number" && Number.isFinite(this.values[name])) parameterValues.push({ id, value: this.values[name] });
    }
    if (parameterValues.length) {
      this.request("InjectParameterDataRequest", { faceFound: false, mode: "set", parameterValues }).catch(() => {});
    }
    this.injectTimer = this.setTimer(() => this.injectLoop(), 1000 / this.injectHz);
  }

  // Emotion -> the streamer's hotkey and/or expression for it (dashboard mapping).
  async showEmotion(emotion) {
    if (this.state !== "connected") return;
    const mapping = this.emotionMap?.[emotion] || {};
    const hotkeyID = this.hotkeys.get(mapping.vts_hotkey) || (mapping.vts_hotkey && [...this.hotkeys.values()].includes(mapping.vts_hotkey) ? mapping.vts_hotkey : null);
    if (hotkeyID) await this.request("HotkeyTriggerRequest", { hotkeyID }).catch(() => {});
    if (mapping.vts_expression) {
      await this.request("ExpressionActivationRequest", { expressionFile: mapping.vts_expression, active: true }).catch(() => {});
    }
  }
}
