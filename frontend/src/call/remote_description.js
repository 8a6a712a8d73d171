// The other side's avatar description, made safe to render. The server checks it against the
// schema in docs/protocol.md before relaying, but the page must not trust that alone (an older
// server, a bug, a peer in practice mode): whatever arrives becomes the documented shape, with
// strings where strings are expected and lists where lists are, so rendering it cannot throw.

const text = (v, max) => (typeof v === "string" || typeof v === "number" ? String(v).slice(0, max) : "");

/** A list from whatever was sent: an array as is, a lone string or number as one item, else []. */
function list(v, maxItems) {
  if (Array.isArray(v)) return v.slice(0, maxItems);
  if (typeof v === "string" || typeof v === "number") return [v];
  return [];
}

/** {name, authors[], url, card[{key,state,label,value,code,declared}]} or null when there is no license object. */
export function normalizeLicense(lic) {
  if (!lic || typeof lic !== "object" || Array.isArray(lic)) return null;
  return {
    name: text(lic.name, 120),
    authors: list(lic.authors, 5).map((a) => text(a, 80)).filter(Boolean),
    url: text(lic.url, 300),
    card: list(lic.card, 12)
      .filter((row) => row && typeof row === "object" && !Array.isArray(row))
      .map((row) => ({
        key: text(row.key, 40), state: text(row.state, 16), label: text(row.label, 60), value: text(row.value, 120),
        code: text(row.code, 40), declared: row.declared !== false,
      }))
      .filter((row) => row.label || row.value),
  };
}

/** {renderer: "2d"|"vrm", fileHash, id, name, license} from anything (null stays null). */
export function normalizeRemoteAvatar(avatar) {
  if (!avatar || typeof avatar !== "object" || Array.isArray(avatar)) return null;
  const fileHash = typeof avatar.fileHash === "string" && /^[0-9a-f]{64}$/.test(avatar.fileHash) ? avatar.fileHash : null;
  // A VRM without a usable hash could never be loaded: show the built-in 2D stand-in instead.
  const renderer = avatar.renderer === "vrm" && fileHash ? "vrm" : "2d";
  return {
    renderer,
    fileHash,
    id: text(avatar.id, 200),
    name: text(avatar.name, 200),
    license: normalizeLicense(avatar.license),
  };
}

/**
 * A card row in this page's own words (`text`: the server's license_card_text(), json_script
 * "license-text"), from the row's key and code; the sender's words when this page does not know
 * them (an unknown key or code, or an older page that sent no code).
 */
export function localizeRow(row, text) {
  const words = text && text.rows && Object.prototype.hasOwnProperty.call(text.rows, row.key) ? text.rows[row.key] : null;
  const value = words && row.code && Object.prototype.hasOwnProperty.call(words.values, row.code) ? words.values[row.code] : null;
  if (!words || value === null) return { label: row.label, value: row.value };
  return {
    label: words.label,
    value: row.declared === false && typeof text.defaulted === "string" ? text.defaulted.replace("{value}", value) : value,
  };
}

/**
 * A license name as people write it: VRM 0.x's Creative Commons enum names ("CC_BY_NC_SA") become
 * "CC BY-NC-SA"; any other name is shown as the file declares it.
 */
export function licenseDisplayName(name) {
  const m = /^CC_(BY(?:_(?:NC|SA|ND))*)$/.exec(name || "");
  return m ? `CC ${m[1].replace(/_/g, "-")}` : name;
}
