// Viewer chat and AI replies on the OBS overlay. Everything here was written by stream viewers:
// it is inserted as text nodes only, and emoji tokens become <img> only for Chzzk's own image
// hosts over https. Messages fade out after `fadeAfterS` (seed 003: 10 minutes).

export const EMOJI_HOSTS = new Set(["ssl.pstatic.net", "nng-phinf.pstatic.net", "static-cdn.chzzk.naver.com"]);
const MAX_SHOWN = 30;

export function safeEmojiUrl(url) {
  try {
    const u = new URL(String(url));
    return u.protocol === "https:" && EMOJI_HOSTS.has(u.hostname) ? u.href : null;
  } catch {
    return null;
  }
}

// Split `text` into text and emoji parts: [{text}] / [{emoji: url, alt}], for the tokens in `emojis`.
export function splitEmojis(text, emojis) {
  const tokens = Object.keys(emojis || {}).filter((t) => t && safeEmojiUrl(emojis[t]));
  if (!tokens.length) return [{ text: String(text) }];
  const parts = [];
  let rest = String(text);
  while (rest) {
    let best = -1;
    let token = "";
    for (const t of tokens) {
      const i = rest.indexOf(t);
      if (i >= 0 && (best < 0 || i < best)) { best = i; token = t; }
    }
    if (best < 0) { parts.push({ text: rest }); break; }
    if (best > 0) parts.push({ text: rest.slice(0, best) });
    parts.push({ emoji: safeEmojiUrl(emojis[token]), alt: token });
    rest = rest.slice(best + token.length);
  }
  return parts;
}

export class OverlayChat {
  constructor(list, { doc = document, fadeAfterS = 600, setTimer = (fn, ms) => setTimeout(fn, ms) } = {}) {
    Object.assign(this, { list, doc, fadeAfterS, setTimer });
    this.hideStreamer = false;
  }

  add(event) {
    if (event.from_streamer && this.hideStreamer) return null;
    const li = this.doc.createElement("li");
    if (event.kind === "donation") li.className = "donation";
    if (event.from_streamer) li.dataset.streamer = "1";
    const nick = this.doc.createElement("span");
    nick.className = "nick";
    nick.textContent = event.kind === "donation" ? `${event.nickname} ₩${Number(event.amount) || 0}` : String(event.nickname);
    li.append(nick);
    for (const part of splitEmojis(event.text || (event.kind === "subscription" ? `★ ${event.months}` : ""), event.emojis)) {
      if (part.emoji) {
        const img = this.doc.createElement("img");
        img.className = "emoji";
        img.src = part.emoji;
        img.alt = part.alt;
        img.referrerPolicy = "no-referrer";
        li.append(img);
      } else {
        li.append(this.doc.createTextNode(part.text));
      }
    }
    this.list.append(li);
    while (this.list.children.length > MAX_SHOWN) this.list.firstElementChild.remove();
    this.setTimer(() => li.classList.add("fading"), this.fadeAfterS * 1000);
    this.setTimer(() => li.remove(), this.fadeAfterS * 1000 + 2000);
    return li;
  }

  setHideStreamer(hide) {
    this.hideStreamer = Boolean(hide);
    for (const li of [...this.list.children]) if (li.dataset.streamer) li.hidden = this.hideStreamer;
  }

  clear() {
    this.list.replaceChildren();
  }
}
