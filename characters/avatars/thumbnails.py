"""Avatar thumbnails: the image the file embeds (re-encoded to WebP), else a drawn placeholder.

The embedded image is untrusted: it is opened through a bounded FileSlice, its declared size is
checked before any pixel is decoded, and it is re-encoded so only pixels we produced are served.
Image sizes of all embedded images are read from their headers only (for texture memory stats).
"""
from __future__ import annotations

import hashlib
import io
import warnings
from typing import IO

from PIL import Image, ImageDraw, ImageFilter, UnidentifiedImageError

from .formats.glb import GlbDocument

THUMB_SIZE = 512
MAX_THUMB_SOURCE_BYTES = 32 * 1024 * 1024
MAX_THUMB_SOURCE_PIXELS = 4096 * 4096
THUMB_CONTENT_TYPE = "image/webp"
ALLOWED_FORMATS = ["PNG", "JPEG", "WEBP", "GIF", "BMP"]


def image_sizes(doc: GlbDocument, fileobj: IO[bytes]) -> tuple[dict[int, tuple[int, int]], bool]:
    """{image index: (width, height)} from image headers, and whether some image is external.

    Only headers are read (Pillow opens lazily), so a 200 MB texture costs a few kilobytes.
    """
    sizes: dict[int, tuple[int, int]] = {}
    external = False
    for index, image in enumerate(doc.array("images")):
        if "bufferView" not in image:
            external = True
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(doc.open_buffer_view(fileobj, image["bufferView"]), formats=ALLOWED_FORMATS) as img:
                    sizes[index] = img.size
        except Image.DecompressionBombError:
            sizes[index] = (16384, 16384)  # counts as huge in the stats instead of failing the upload
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            continue  # KTX2/Basis or damaged image: no size known
    return sizes, external


def extract_thumbnail(doc: GlbDocument, fileobj: IO[bytes], image_index: int) -> tuple[bytes | None, str | None]:
    """WebP bytes of the embedded thumbnail, or (None, warning code)."""
    images = doc.array("images")
    if not 0 <= image_index < len(images) or "bufferView" not in images[image_index]:
        return None, "thumbnail_invalid"
    _, length = doc.buffer_view_range(images[image_index]["bufferView"])
    if length > MAX_THUMB_SOURCE_BYTES:
        return None, "thumbnail_too_large"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(doc.open_buffer_view(fileobj, images[image_index]["bufferView"]), formats=ALLOWED_FORMATS) as img:
                if img.width * img.height > MAX_THUMB_SOURCE_PIXELS:
                    return None, "thumbnail_too_large"
                img.draft("RGB", (THUMB_SIZE, THUMB_SIZE))  # JPEG decodes at a reduced scale
                img.load()
                frame = img.convert("RGBA")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None, "thumbnail_too_large"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return None, "thumbnail_invalid"
    frame.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    frame.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue(), None


def placeholder_thumbnail(seed: str) -> bytes:
    """A soft, rendered-looking silhouette on a gradient whose hue comes from `seed` (the hash)."""
    digest = hashlib.sha256(seed.encode()).digest()
    hue = digest[0] / 255
    size = THUMB_SIZE
    scale = 2  # draw at 2x and downsample for smooth edges

    def hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
        import colorsys

        r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
        return int(r * 255), int(g * 255), int(b * 255)

    big = size * scale
    top, bottom = hsv(hue, 0.35, 0.98), hsv(hue + 0.08, 0.55, 0.62)
    gradient = Image.new("RGB", (1, big))
    for y in range(big):
        t = y / (big - 1)
        gradient.putpixel((0, y), tuple(int(top[i] * (1 - t) + bottom[i] * t) for i in range(3)))
    canvas = gradient.resize((big, big)).convert("RGBA")

    # floor shadow
    shadow = Image.new("L", (big, big), 0)
    ImageDraw.Draw(shadow).ellipse((big * 0.28, big * 0.86, big * 0.72, big * 0.94), fill=110)
    shadow = shadow.filter(ImageFilter.GaussianBlur(big * 0.02))
    canvas.paste(Image.new("RGBA", (big, big), (20, 20, 40, 255)), (0, 0), shadow)

    # silhouette: head, neck, shoulders and torso, arms
    body = Image.new("L", (big, big), 0)
    d = ImageDraw.Draw(body)
    cx = big / 2
    d.ellipse((cx - big * 0.11, big * 0.13, cx + big * 0.11, big * 0.37), fill=255)
    d.rectangle((cx - big * 0.035, big * 0.35, cx + big * 0.035, big * 0.42), fill=255)
    d.rounded_rectangle((cx - big * 0.2, big * 0.41, cx + big * 0.2, big * 0.9), radius=big * 0.09, fill=255)
    d.rounded_rectangle((cx - big * 0.27, big * 0.44, cx - big * 0.18, big * 0.8), radius=big * 0.045, fill=255)
    d.rounded_rectangle((cx + big * 0.18, big * 0.44, cx + big * 0.27, big * 0.8), radius=big * 0.045, fill=255)
    body = body.filter(ImageFilter.GaussianBlur(scale * 0.8))

    fill_top, fill_bottom = hsv(hue + 0.5, 0.12, 1.0), hsv(hue + 0.55, 0.3, 0.82)
    fill = Image.new("RGB", (1, big))
    for y in range(big):
        t = y / (big - 1)
        fill.putpixel((0, y), tuple(int(fill_top[i] * (1 - t) + fill_bottom[i] * t) for i in range(3)))
    fill = fill.resize((big, big)).convert("RGBA")
    # rim light: a lighter edge on the upper-left of the silhouette
    rim = body.filter(ImageFilter.GaussianBlur(big * 0.012))
    glow = Image.new("RGBA", (big, big), (255, 255, 255, 0))
    glow.putalpha(rim.point(lambda v: int(v * 0.35)))
    canvas = Image.alpha_composite(canvas, glow)
    canvas.paste(fill, (0, 0), body)

    out = io.BytesIO()
    canvas.resize((size, size), Image.Resampling.LANCZOS).save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()
