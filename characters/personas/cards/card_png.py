"""PNG side of Character Cards: read the `chara` / `ccv3` text chunks, check the image is a sane
PNG (not a decompression bomb), make a portrait from it, and write a card PNG.

Chunks are read by hand (length, type, CRC) rather than through Pillow so that a hostile file
never reaches an image decoder before its header is checked: the IHDR dimensions are bounded
first, and only then is the image decoded, under Pillow's own bomb guard as well.
"""
from __future__ import annotations

import hashlib
import io
import struct
import warnings
import zlib

from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from .errors import CardError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_SIDE = 4096
MAX_IMAGE_PIXELS = 4096 * 4096
MAX_CHUNKS = 100_000
MAX_TEXT_CHUNK_BYTES = 4 * 1024 * 1024  # base64 of a 1 MB card is 1.4 MB; leave room, refuse absurd ones
CARD_KEYWORDS = ("ccv3", "chara")
PORTRAIT_SIZE = 512


def is_png(data: bytes) -> bool:
    return data[:8] == PNG_SIGNATURE


def _invalid(reason: str) -> CardError:
    return CardError(_("The PNG file is damaged or not a PNG image."), code="card_png_invalid", details={"reason": reason})


def read_card_chunks(data: bytes) -> tuple[dict[str, bytes], tuple[int, int]]:
    """Walk the chunks; return {keyword: text bytes} for the card keywords and (width, height).

    Raises CardError for anything that is not a well-formed PNG with bounded dimensions."""
    if not is_png(data):
        raise CardError(_("This file is not a PNG image."), code="card_not_png")
    pos = 8
    found: dict[str, bytes] = {}
    size: tuple[int, int] | None = None
    count = 0
    seen_end = False
    while pos < len(data):
        count += 1
        if count > MAX_CHUNKS:
            raise _invalid("too many chunks")
        if pos + 8 > len(data):
            raise _invalid("truncated chunk header")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        if not ctype.isalpha():
            raise _invalid("bad chunk type")
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > len(data):
            raise _invalid("truncated chunk")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise _invalid("chunk checksum mismatch")
        if count == 1:
            if ctype != b"IHDR" or length != 13:
                raise _invalid("missing IHDR")
            width, height = struct.unpack(">II", body[:8])
            if width == 0 or height == 0:
                raise _invalid("empty image")
            if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
                raise CardError(
                    _("The card image is too large (%(w)d×%(h)d pixels; at most %(max)d on a side).")
                    % {"w": width, "h": height, "max": MAX_IMAGE_SIDE},
                    code="card_image_too_large",
                    details={"width": width, "height": height, "max_side": MAX_IMAGE_SIDE},
                )
            size = (width, height)
        elif ctype in (b"tEXt", b"iTXt"):
            keyword, text = _text_chunk(ctype, body)
            if keyword in CARD_KEYWORDS and keyword not in found:
                found[keyword] = text
        elif ctype == b"IEND":
            seen_end = True
            break
        pos = end
    if size is None or not seen_end:
        raise _invalid("missing IEND")
    return found, size


def _text_chunk(ctype: bytes, body: bytes) -> tuple[str, bytes]:
    keyword, sep, rest = body.partition(b"\0")
    if not sep:
        raise _invalid("bad text chunk")
    name = keyword.decode("latin-1")
    if ctype == b"tEXt":
        if len(rest) > MAX_TEXT_CHUNK_BYTES and name in CARD_KEYWORDS:
            raise CardError(_("The card data in the PNG is too large."), code="card_too_large")
        return name, rest
    # iTXt: compression flag, method, language\0, translated keyword\0, text (UTF-8)
    if len(rest) < 2:
        raise _invalid("bad iTXt chunk")
    compressed, method = rest[0], rest[1]
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3:
        raise _invalid("bad iTXt chunk")
    text = parts[2]
    if name not in CARD_KEYWORDS:
        return name, b""
    if compressed:
        if method != 0:
            raise _invalid("unknown compression")
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, MAX_TEXT_CHUNK_BYTES + 1)
        except zlib.error as exc:
            raise _invalid("bad compressed text") from exc
        if len(text) > MAX_TEXT_CHUNK_BYTES or inflater.unconsumed_tail:
            raise CardError(_("The card data in the PNG is too large."), code="card_too_large")
    elif len(text) > MAX_TEXT_CHUNK_BYTES:
        raise CardError(_("The card data in the PNG is too large."), code="card_too_large")
    return name, text


def make_portrait(data: bytes) -> bytes:
    """Decode the (already header-checked) PNG and return a re-encoded PNG of at most
    PORTRAIT_SIZE pixels a side, without any of the original metadata chunks."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise CardError(_("The card image is too large."), code="card_image_too_large")
                img.load()
                pic = img.convert("RGBA")
    except CardError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise CardError(_("The card image is too large."), code="card_image_too_large") from exc
    except (OSError, SyntaxError, ValueError, struct.error, zlib.error) as exc:
        raise _invalid("image data cannot be decoded") from exc
    pic.thumbnail((PORTRAIT_SIZE, PORTRAIT_SIZE))
    out = io.BytesIO()
    pic.save(out, "PNG", optimize=False)
    return out.getvalue()


def generated_card_image(*, name: str, seed: str, width: int = 400, height: int = 600) -> bytes:
    """A simple card picture (gradient, a badge with the initial) for characters with no image."""
    digest = hashlib.sha256(seed.encode()).digest()
    top = (40 + digest[0] % 120, 30 + digest[1] % 100, 90 + digest[2] % 140)
    bottom = (15 + digest[3] % 60, 10 + digest[4] % 50, 40 + digest[5] % 80)
    img = Image.new("RGB", (width, height), top)
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / (height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    cx, cy, r = width // 2, height // 2 - 40, width // 3
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 255, 255), outline=(230, 226, 255), width=6)
    initial = next((ch for ch in name if ch.isascii() and ch.isalnum()), "")
    if initial:
        font = ImageFont.load_default(size=int(r * 1.2))
        draw.text((cx, cy), initial.upper(), fill=top, font=font, anchor="mm")
    else:
        # A four-point star: the default font has no glyphs for most non-Latin scripts.
        s = r * 0.7
        points = [(cx, cy - s), (cx + s * 0.25, cy - s * 0.25), (cx + s, cy), (cx + s * 0.25, cy + s * 0.25),
                  (cx, cy + s), (cx - s * 0.25, cy + s * 0.25), (cx - s, cy), (cx - s * 0.25, cy - s * 0.25)]
        draw.polygon(points, fill=top)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def write_card_png(image_png: bytes, chunks: dict[str, str]) -> bytes:
    """Re-encode `image_png` with exactly the given tEXt chunks (keyword -> ASCII text).

    The picture is re-encoded so no text chunk of the source survives (an old `chara` chunk in a
    portrait must not shadow the one we write)."""
    with Image.open(io.BytesIO(image_png)) as img:
        img.load()
        pic = img.convert("RGBA") if img.mode not in ("RGB", "RGBA") else img.copy()
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    out = io.BytesIO()
    pic.save(out, "PNG", pnginfo=info)
    return out.getvalue()
