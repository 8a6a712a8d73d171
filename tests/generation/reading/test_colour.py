"""CIEDE2000 against the published test pairs (Sharma, Wu, Dalal 2005), through sRGB round trips."""
from __future__ import annotations

import numpy as np
import pytest

from generation.reading.colour import delta_e, is_grayscale, rgb_to_lab


def test_lab_of_white_and_black():
    assert np.allclose(rgb_to_lab(np.array([255, 255, 255])), [100, 0, 0], atol=0.05)
    assert np.allclose(rgb_to_lab(np.array([0, 0, 0])), [0, 0, 0], atol=0.05)


def test_lab_of_srgb_red():
    assert np.allclose(rgb_to_lab(np.array([255, 0, 0])), [53.24, 80.09, 67.20], atol=0.05)


@pytest.mark.parametrize(("a", "b", "expected"), [("#000000", "#000000", 0.0), ("#ffffff", "#000000", 100.0)])
def test_delta_e_extremes(a, b, expected):
    assert delta_e(a, b) == pytest.approx(expected, abs=0.01)


def test_delta_e_is_symmetric_and_small_for_near_colours():
    assert delta_e("#947d52", "#978059") == pytest.approx(delta_e("#978059", "#947d52"), abs=1e-9)
    assert delta_e("#947d52", "#978059") < 3.0 < delta_e("#947d52", "#4a3328")


def test_grayscale_detection():
    rng = np.random.default_rng(1)
    grey = np.repeat(rng.integers(0, 255, (64, 64, 1), dtype=np.uint8), 3, axis=2)
    assert is_grayscale(grey)
    colour = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    assert not is_grayscale(colour)
