// VRM bytes for the other side. The avatar file belongs to its owner; the other browser gets it
// peer to peer over the reliable "asset" DataChannel (never through another user's download
// rights on the server), checks its SHA-256 against the announced fileHash, and keeps it in
// Cache Storage by hash so a second call with the same avatar needs no transfer (the seed's
// fileHash cache flow).

const CACHE = "af-avatars-v1";
const CHUNK = 16 * 1024;
export const MAX_ASSET_BYTES = 210 * 1024 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;

export async function sha256Hex(buffer) {
  const d = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

const cacheKey = (hash) => new Request(`${location.origin}/__avatar-cache__/${hash}`);

export async function cachedAsset(hash) {
  if (!HEX64.test(hash || "") || !("caches" in window)) return null;
  try {
    const cache = await caches.open(CACHE);
    const res = await cache.match(cacheKey(hash));
    return res ? await res.arrayBuffer() : null;
  } catch {
    return null;
  }
}

export async function storeAsset(hash, buffer) {
  if (!HEX64.test(hash || "") || !("caches" in window)) return;
  try {
    const cache = await caches.open(CACHE);
    await cache.put(cacheKey(hash), new Response(buffer, { headers: { "Content-Type": "model/gltf-binary" } }));
  } catch {
    /* quota or private mode: just no cache */
  }
}

/**
 * Our own avatar's bytes: from the cache when the hash matches, else from the avatar library's
 * download endpoint (which validates with ETag = fileHash), then cached.
 */
export async function fetchOwnAsset(url, hash) {
  const hit = await cachedAsset(hash);
  if (hit) return hit;
  const res = await fetch(url, { credentials: "same-origin" });
  if (!res.ok) throw Object.assign(new Error(`download failed (${res.status})`), { code: "avatar_download_failed" });
  const buf = await res.arrayBuffer();
  if (hash && HEX64.test(hash)) {
    const got = await sha256Hex(buf);
    if (got !== hash) throw Object.assign(new Error("downloaded avatar does not match its hash"), { code: "avatar_hash_mismatch" });
    await storeAsset(hash, buf);
  }
  return buf;
}

/** Send bytes over an open reliable channel, respecting its buffer. */
export async function sendAsset(channel, hash, buffer) {
  const bytes = new Uint8Array(buffer);
  channel.bufferedAmountLowThreshold = 256 * 1024;
  channel.send(JSON.stringify({ t: "begin", hash, size: bytes.length }));
  for (let off = 0; off < bytes.length; off += CHUNK) {
    if (channel.readyState !== "open") return false;
    if (channel.bufferedAmount > 1024 * 1024) {
      await new Promise((resolve) => {
        channel.addEventListener("bufferedamountlow", resolve, { once: true });
      });
    }
    channel.send(bytes.subarray(off, Math.min(bytes.length, off + CHUNK)));
  }
  channel.send(JSON.stringify({ t: "end", hash }));
  return true;
}

/** Assembles incoming assets; `onAsset(hash, buffer)` after the hash checked out. */
export class AssetReceiver {
  constructor(onAsset, onProgress = () => {}) {
    this.onAsset = onAsset;
    this.onProgress = onProgress;
    this.cur = null;
  }

  async handle(data) {
    if (typeof data === "string") {
      let msg;
      try {
        msg = JSON.parse(data);
      } catch {
        return;
      }
      if (msg.t === "begin" && HEX64.test(msg.hash || "") && Number.isInteger(msg.size) && msg.size > 0 && msg.size <= MAX_ASSET_BYTES) {
        this.cur = { hash: msg.hash, size: msg.size, bytes: new Uint8Array(msg.size), got: 0 };
      } else if (msg.t === "end" && this.cur && this.cur.hash === msg.hash) {
        const cur = this.cur;
        this.cur = null;
        if (cur.got !== cur.size) return;
        const buf = cur.bytes.buffer;
        if ((await sha256Hex(buf)) !== cur.hash) return; // corrupt or not what was announced
        await storeAsset(cur.hash, buf);
        this.onAsset(cur.hash, buf);
      }
      return;
    }
    const cur = this.cur;
    if (!cur) return;
    const chunk = new Uint8Array(data);
    if (cur.got + chunk.length > cur.size) {
      this.cur = null; // more than announced: drop it
      return;
    }
    cur.bytes.set(chunk, cur.got);
    cur.got += chunk.length;
    this.onProgress(cur.got / cur.size);
  }
}
