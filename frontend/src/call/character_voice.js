// A call with a character (calls/ on the server): the character's peer opens a "voice"
// DataChannel carrying its voice session's events (docs/voice-protocol.md). This shows what the
// character is doing (listening, thinking, speaking) and what it understood you said, as text
// only (textContent: transcripts are never parsed as HTML). No DOM lookups of its own: it gets
// the status and caption elements and the page's strings (ui.t.character).

export const STATES = Object.freeze(["joining", "listening", "thinking", "speaking"]);

export class CharacterVoiceStatus {
  /** @param {{status: HTMLElement|null, caption: HTMLElement|null, strings: object, showError?: (code:string, text:string)=>void}} opts */
  constructor({ status, caption, strings, showError = () => {} }) {
    this.status = status;
    this.caption = caption;
    this.t = strings || {};
    this.showError = showError;
    this.state = null;
    this.events = 0; // events handled (tests read it through window.__afStats)
  }

  /** The page was opened from a character's Call button: say it is on its way. */
  expect() {
    this.setState("joining");
  }

  setState(state) {
    if (!STATES.includes(state)) return;
    this.state = state;
    if (!this.status) return;
    this.status.hidden = false;
    this.status.dataset.state = state;
    this.status.textContent = this.t[state] || state;
  }

  /** The "voice" channel of a new peer connection: the character is here and listening. */
  attach(ch) {
    ch.onmessage = (e) => this.handle(e.data);
    const opened = () => this.setState("listening");
    if (ch.readyState === "open") opened();
    else ch.onopen = opened;
  }

  handle(data) {
    if (typeof data !== "string" || data.length > 65536) return;
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (!event || typeof event !== "object") return;
    this.events += 1;
    switch (event.type) {
      case "final_transcript":
        this.setState("thinking");
        this.setCaption(typeof event.text === "string" ? event.text : "");
        break;
      case "bot_speaking":
        this.setState(event.speaking ? "speaking" : "listening");
        break;
      case "interrupt":
        this.setState("listening");
        break;
      case "error":
        this.setState("listening");
        this.showError(typeof event.code === "string" ? event.code : "generic", typeof event.message === "string" ? event.message : "");
        break;
      default:
        break;
    }
  }

  setCaption(text) {
    if (!this.caption) return;
    const said = text.slice(0, 500);
    this.caption.hidden = !said;
    this.caption.textContent = said ? `${this.t.you_said || "You said:"} ${said}` : "";
  }
}
