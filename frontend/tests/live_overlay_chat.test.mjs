import assert from "node:assert/strict";
import { test } from "node:test";

import { safeEmojiUrl, splitEmojis } from "../src/live/overlay_chat.js";

test("only https Chzzk emoji hosts are allowed", () => {
  assert.equal(safeEmojiUrl("https://ssl.pstatic.net/a.png"), "https://ssl.pstatic.net/a.png");
  assert.equal(safeEmojiUrl("http://ssl.pstatic.net/a.png"), null);
  assert.equal(safeEmojiUrl("javascript:alert(1)"), null);
  assert.equal(safeEmojiUrl("https://ssl.pstatic.net.evil.example/a.png"), null);
  assert.equal(safeEmojiUrl("https://evil.example/?h=ssl.pstatic.net"), null);
});

test("emoji tokens split out of text; unknown hosts stay text", () => {
  const parts = splitEmojis("hi {:ok:} <img src=x onerror=alert(1)> {:bad:}", {
    "{:ok:}": "https://ssl.pstatic.net/ok.png", "{:bad:}": "https://evil.example/x.png",
  });
  assert.deepEqual(parts, [
    { text: "hi " }, { emoji: "https://ssl.pstatic.net/ok.png", alt: "{:ok:}" },
    { text: " <img src=x onerror=alert(1)> {:bad:}" },
  ]);
});
