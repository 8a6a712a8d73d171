"""Safe photo decoding, shared by the upload check (before a job exists) and the ingest stage.

Only real JPEG, PNG and WebP files are accepted (by signature, then by Pillow's own parse); the
pixel count is checked from the header before any pixel is decoded, so decompression bombs never
allocate; truncated files fail the full decode. The result is an RGB image with EXIF orientation
applied and no metadata.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from avatarforge.errors import AppError

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MIN_SIDE = 64
WORK_SIDE = 1024  # the pipeline works on photos at most this wide or tall


class ImageRejected(AppError):
    """A photo refused with a reason a person can act on (400 at upload, a failed ingest in a job)."""

    def __init__(self, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(message, code=code, details=details or {})


@dataclass
class DecodedPhoto:
    image: Image.Image  # RGB, oriented, at most `max_side` on its longer side
    format: str
    original_size: tuple[int, int]  # as stored in the file (before orientation)


def _signature_format(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def decode_photo(data: bytes, *, max_pixels: int, max_side: int = WORK_SIDE) -> DecodedPhoto:
    """Decode `data` or raise ImageRejected with a code and a message a person can act on."""
    allowed = ", ".join(sorted(ALLOWED_FORMATS))
    if _signature_format(data[:16]) is None:
        raise ImageRejected(
            "image_type_unsupported",
            _("This file is not a JPEG, PNG or WebP photo. Choose a photo file."),
            {"allowed": sorted(ALLOWED_FORMATS)},
        )
    with warnings.catch_warnings():
        # Pillow's own bomb guard warns (and errors past 2x its limit); ours is stricter and first.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            image_format = image.format or ""
            width, height = image.size
        except Image.DecompressionBombError:
            raise _too_many_pixels(None, max_pixels) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise ImageRejected(
                "image_corrupt", _("The photo could not be read: the file is damaged or not an image. Try another photo."),
            ) from None
        if image_format not in ALLOWED_FORMATS:
            raise ImageRejected("image_type_unsupported", _("Use a JPEG, PNG or WebP photo (allowed: %(allowed)s).") % {"allowed": allowed})
        if width * height > max_pixels:
            raise _too_many_pixels((width, height), max_pixels)
        if min(width, height) < MIN_SIDE:
            raise ImageRejected(
                "image_too_small",
                _("The photo is %(w)d×%(h)d pixels; it needs at least %(min)d pixels on each side. Use a larger photo.")
                % {"w": width, "h": height, "min": MIN_SIDE},
                {"width": width, "height": height, "min_side": MIN_SIDE},
            )
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # animated WebP/PNG: the first frame
        if image_format == "JPEG":
            # Decode at a reduced DCT scale when the photo is much larger than we need.
            image.draft("RGB", (max_side * 2, max_side * 2))
        truncated_flag = ImageFile.LOAD_TRUNCATED_IMAGES
        try:
            ImageFile.LOAD_TRUNCATED_IMAGES = False  # a cut-off file must fail, whatever else set it
            image.load()
        except Image.DecompressionBombError:
            raise _too_many_pixels((width, height), max_pixels) from None
        except (OSError, ValueError, SyntaxError, EOFError):
            raise ImageRejected(
                "image_corrupt",
                _("The photo is incomplete or damaged (for example a cut-off download). Save it again and retry."),
            ) from None
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated_flag
    image = ImageOps.exif_transpose(image)
    image = _to_rgb(image)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", image.size)
    clean.paste(image)  # a fresh image carries no EXIF, ICC or text chunks
    return DecodedPhoto(image=clean, format=image_format, original_size=(width, height))


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> ImageRejected:
    details: dict = {"max_pixels": max_pixels}
    if size:
        details.update(width=size[0], height=size[1])
    return ImageRejected(
        "image_too_many_pixels",
        _("The photo has too many pixels (at most %(mp)d megapixels). Resize it and upload again.") % {"mp": max_pixels // 1_000_000},
        details,
    )


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def encode_jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=False)
    return out.getvalue()


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=4)
    return out.getvalue()
