"""The face model is hash-checked before MediaPipe gets it."""
from __future__ import annotations

import pytest

from generation.reading import landmarker


def test_a_model_with_the_wrong_hash_is_refused(tmp_path):
    fake = tmp_path / "face_landmarker.task"
    fake.write_bytes(b"not the model" * 100)
    with pytest.raises(landmarker.LandmarkerUnavailable, match="expected 64184e22"):
        landmarker._model_bytes(str(fake))


def test_a_missing_model_says_how_to_get_it(tmp_path):
    with pytest.raises(landmarker.LandmarkerUnavailable, match="20-face-model.sh"):
        landmarker._model_bytes(str(tmp_path / "absent.task"))


def test_the_installed_model_is_the_checked_one():
    assert landmarker.available() == ""
