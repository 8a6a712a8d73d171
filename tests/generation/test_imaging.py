"""Safe decoding of photos: accepted formats and modes, and every kind of hostile file."""
from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile

from generation.imaging import ImageRejected, decode_photo

from .conftest import bomb_png, png_bytes

MAX = 40_000_000


def encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_decode_to_rgb(fmt):
    decoded = decode_photo(encoded(Image.new("RGB", (300, 200), (10, 200, 30)), fmt), max_pixels=MAX)
    assert decoded.format == fmt and decoded.image.mode == "RGB" and decoded.image.size == (300, 200)


def test_transparency_is_flattened_on_white_and_large_photos_shrink():
    rgba = Image.new("RGBA", (2400, 1600), (255, 0, 0, 0))
    decoded = decode_photo(encoded(rgba, "PNG"), max_pixels=MAX)
    assert decoded.image.size == (1024, 683) and decoded.image.getpixel((5, 5)) == (255, 255, 255)
    cmyk = decode_photo(encoded(Image.new("CMYK", (200, 200)), "JPEG"), max_pixels=MAX)
    assert cmyk.image.mode == "RGB"


def test_metadata_is_not_carried_over(face_jpeg):
    image = Image.open(io.BytesIO(face_jpeg))
    exif = Image.Exif()
    exif[0x8825] = {1: "N"}  # GPS
    decoded = decode_photo(encoded(image, "JPEG", exif=exif, icc_profile=b"\0" * 128), max_pixels=MAX)
    assert not decoded.image.info.get("exif") and not decoded.image.info.get("icc_profile")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "image_type_unsupported"),
        (b"%PDF-1.4 not a photo", "image_type_unsupported"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 64, "image_corrupt"),
        (encoded(Image.new("RGB", (100, 100)), "GIF"), "image_type_unsupported"),
        (encoded(Image.new("RGB", (100, 100)), "BMP"), "image_type_unsupported"),
        (png_bytes(1, 1), "image_too_small"),
        (png_bytes(500, 20), "image_too_small"),
        (bomb_png(), "image_too_many_pixels"),
    ],
    ids=["empty", "pdf", "jpeg-header-only", "gif", "bmp", "1x1", "sliver", "bomb"],
)
def test_hostile_files_are_rejected_with_a_code(data, code):
    with pytest.raises(ImageRejected) as err:
        decode_photo(data, max_pixels=MAX)
    assert err.value.code == code and err.value.message


def test_truncated_jpeg_fails_even_if_someone_allowed_truncated_loads(face_jpeg):
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(ImageRejected) as err:
            decode_photo(face_jpeg[: len(face_jpeg) * 2 // 3], max_pixels=MAX)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    assert err.value.code == "image_corrupt"


def test_pixel_limit_is_checked_from_the_header():
    with pytest.raises(ImageRejected) as err:
        decode_photo(png_bytes(400, 300), max_pixels=100_000)
    assert err.value.code == "image_too_many_pixels" and err.value.details["width"] == 400
