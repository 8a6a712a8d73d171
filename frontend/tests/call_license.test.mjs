// The other person's license panel on the call page (call/ui.js renderLicense) and the
// normalizer behind it (call/remote_description.js): whatever a peer sends, the panel renders
// without throwing, user data as text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { licenseDisplayName, localizeRow, normalizeLicense, normalizeRemoteAvatar } from "../src/call/remote_description.js";
import { CallUi } from "../src/call/ui.js";

/** Just enough DOM for renderLicense: elements with children, textContent, dataset, hidden. */
class El {
  constructor(tag) { this.tag = tag; this.children = []; this.dataset = {}; this.hidden = false; this._text = ""; this.className = ""; }
  appendChild(c) { this.children.push(c); return c; }
  append(...cs) { this.children.push(...cs); }
  set textContent(v) { this._text = String(v); this.children = []; }
  get textContent() { return this._text + this.children.map((c) => c.textContent).join(""); }
  find(tag) { return this.children.find((c) => c.tag === tag) || null; }
}

function panel() {
  globalThis.document = { createElement: (tag) => new El(tag), getElementById: () => null };
  const box = new El("div");
  const root = { querySelector: (sel) => (sel === '[data-el="remote-license"]' ? box : null) };
  return { ui: new CallUi(root), box };
}

const HASH = "ab".repeat(32);

test("a license whose authors is a string renders as one author instead of breaking the panel", () => {
  const { ui, box } = panel();
  ui.renderLicense({ renderer: "vrm", fileHash: HASH, id: "1", name: "Godette", license: { name: "CC_BY", authors: "SirRichard94" } });
  assert.equal(box.hidden, false);
  // Folded: a details element whose summary is the title line.
  assert.equal(box.find("details").find("summary").textContent, "Avatar conditions of use: Godette · CC BY · SirRichard94");
});

test("malformed license fields of every kind render what is usable and never throw", () => {
  const { ui, box } = panel();
  const hostile = [
    { name: "X", license: { authors: { a: 1 }, card: "nope", name: ["CC0"] } },
    { name: { x: 1 }, license: { authors: [null, 5, "<b>Eve</b>", { a: 1 }], card: [null, "row", 7, { label: { a: 1 }, value: "Allowed", state: 3 }] } },
    { license: [] },
    { license: "CC0" },
    "just a string",
    42,
    null,
    undefined,
  ];
  for (const avatar of hostile) ui.renderLicense(avatar);
  // the second one's panel: the usable authors, the one usable card row, as text
  ui.renderLicense(hostile[1]);
  assert.equal(box.hidden, false);
  const details = box.find("details");
  assert.equal(details.find("summary").textContent, "Avatar conditions of use: 5, <b>Eve</b>");
  const dl = details.find("dl");
  assert.deepEqual(dl.children.map((c) => [c.tag, c.textContent]), [["dt", ""], ["dd", "Allowed"]]);
  assert.equal(dl.children[1].dataset.state, "3");
  ui.renderLicense({ license: "CC0" });
  assert.equal(box.hidden, true); // no license object: no panel
});

test("normalizeLicense keeps a well-formed license as it is and bounds what is not", () => {
  const good = { name: "CC_BY", authors: ["A", "B"], url: "https://example.org/l", card: [{ key: "credit", state: "required", label: "Credit", value: "Required", code: "required", declared: true }] };
  assert.deepEqual(normalizeLicense(good), good);
  assert.equal(normalizeLicense(null), null);
  assert.equal(normalizeLicense(["CC0"]), null);
  assert.deepEqual(normalizeLicense({}), { name: "", authors: [], url: "", card: [] });
  const long = normalizeLicense({ name: "n".repeat(500), authors: Array(20).fill("a".repeat(200)), card: Array(30).fill({ label: "l", value: "v" }) });
  assert.equal(long.name.length, 120);
  assert.equal(long.authors.length, 5);
  assert.equal(long.authors[0].length, 80);
  assert.equal(long.card.length, 12);
});

test("normalizeRemoteAvatar: a VRM without a valid hash falls back to 2D; other shapes become the documented one", () => {
  assert.deepEqual(normalizeRemoteAvatar({ renderer: "vrm", fileHash: HASH, id: 7, name: "N", license: null, extra: 1 }),
    { renderer: "vrm", fileHash: HASH, id: "7", name: "N", license: null });
  assert.deepEqual(normalizeRemoteAvatar({ renderer: "vrm", fileHash: "zz", id: null }),
    { renderer: "2d", fileHash: null, id: "", name: "", license: null });
  assert.equal(normalizeRemoteAvatar("vrm"), null);
  assert.equal(normalizeRemoteAvatar([{ renderer: "vrm" }]), null);
});

// The receiving page's own words (rooms.views._license_text, here a Korean page).
const KO = {
  rows: { commercialUsage: { label: "상업적 이용", values: { corporation: "허용 (기업 포함)", unknown: "명시되지 않음" } } },
  defaulted: "{value} (파일에 명시되지 않아 기본값)",
};

test("the other person's card is shown in this page's language, by key and code", () => {
  const sent = { key: "commercialUsage", state: "allowed", label: "Commercial use", value: "Allowed, also for companies", code: "corporation", declared: true };
  assert.deepEqual(localizeRow(sent, KO), { label: "상업적 이용", value: "허용 (기업 포함)" });
  assert.deepEqual(localizeRow({ ...sent, code: "unknown", declared: false }, KO), { label: "상업적 이용", value: "명시되지 않음 (파일에 명시되지 않아 기본값)" });
});

test("rows this page has no words for keep the sender's words", () => {
  const sent = { key: "commercialUsage", state: "allowed", label: "Commercial use", value: "Allowed", code: "somethingNew", declared: true };
  assert.deepEqual(localizeRow(sent, KO), { label: "Commercial use", value: "Allowed" }); // unknown code
  assert.deepEqual(localizeRow({ ...sent, key: "toString", code: "corporation" }, KO), { label: "Commercial use", value: "Allowed" });
  assert.deepEqual(localizeRow({ ...sent, code: "" }, KO), { label: "Commercial use", value: "Allowed" }); // an older page
  assert.deepEqual(localizeRow(sent, null), { label: "Commercial use", value: "Allowed" });
});

test("the panel renders the localized row", () => {
  const { ui, box } = panel();
  ui.licenseText = KO;
  ui.renderLicense({ renderer: "vrm", fileHash: HASH, name: "G", license: { name: "CC_BY", authors: ["A"], card: [
    { key: "commercialUsage", state: "allowed", label: "Commercial use", value: "Allowed, also for companies", code: "corporation", declared: true },
  ] } });
  const dl = box.find("details").find("dl");
  assert.deepEqual(dl.children.map((c) => c.textContent), ["상업적 이용", "허용 (기업 포함)"]);
  assert.equal(dl.children[1].dataset.state, "allowed");
});

test("licenseDisplayName writes VRM 0.x's Creative Commons names as people do, and leaves others", () => {
  assert.equal(licenseDisplayName("CC_BY"), "CC BY");
  assert.equal(licenseDisplayName("CC_BY_NC_SA"), "CC BY-NC-SA");
  assert.equal(licenseDisplayName("CC_BY_NC_ND"), "CC BY-NC-ND");
  assert.equal(licenseDisplayName("CC0"), "CC0");
  assert.equal(licenseDisplayName("Redistribution_Prohibited"), "Redistribution_Prohibited");
  assert.equal(licenseDisplayName("CC_BY_<b>"), "CC_BY_<b>");
  assert.equal(licenseDisplayName(""), "");
});
