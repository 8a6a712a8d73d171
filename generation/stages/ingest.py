"""Stage 1, ingest: decode the upload safely and store a clean working copy.

Artifacts: files["photo.jpg"] (RGB, EXIF orientation applied, no metadata, at most 1024 px);
data {"width", "height", "format", "original_width", "original_height"}.
"""
from __future__ import annotations

from PIL import Image

from ..conf import setting
from ..imaging import ImageRejected, decode_photo, encode_jpeg
from .base import Stage, StageContext, StageError, StageOutput


class IngestStage(Stage):
    name = "ingest"

    def run(self, ctx: StageContext) -> StageOutput:
        try:
            decoded = decode_photo(ctx.input_photo(), max_pixels=setting("GENERATION_MAX_PIXELS"))
        except ImageRejected as exc:
            raise StageError(exc.message, code=exc.code, details=exc.details) from None
        ctx.checkpoint(0.6)
        image = decoded.image
        photo = encode_jpeg(image, quality=93)
        preview = image.copy()
        preview.thumbnail((480, 480), Image.Resampling.BILINEAR)
        return StageOutput(
            data={
                "width": image.width,
                "height": image.height,
                "format": decoded.format,
                "original_width": decoded.original_size[0],
                "original_height": decoded.original_size[1],
            },
            files={"photo.jpg": photo},
            preview=encode_jpeg(preview, quality=85),
        )
