"""The stamp every export carries: the picture unchanged on top, the caption written below."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tabs.image_views import png_bytes, stamped


def test_stamp_keeps_the_picture_and_writes_the_caption_below():
    grey = np.full((50, 300), 128, dtype=np.uint8)
    out = stamped(grey, "seed 7, 20 steps\nsecond line")
    assert out.dtype == np.uint8 and out.shape[1] == 300 and out.shape[2] == 3
    assert (out[:50] == 128).all()
    strip = out[50:]
    assert strip.shape[0] >= 2 * 12  # two lines
    assert (strip < 100).any()  # text


def test_long_captions_wrap_and_narrow_pictures_get_room():
    rgb = np.zeros((20, 40, 3), dtype=np.uint8)
    out = stamped(rgb, "word " * 200)
    assert out.shape[1] >= 240  # narrow pictures are widened so the stamp stays readable
    assert out.shape[0] > 20 + 5 * 12  # wrapped onto several lines
    assert (out[:20, :40] == 0).all() and (out[:20, 40:] == 255).all()


def test_png_round_trip():
    rgb = np.random.default_rng(0).integers(0, 255, (8, 9, 3), dtype=np.uint8)
    with Image.open(io.BytesIO(png_bytes(rgb))) as image:
        assert np.array_equal(np.asarray(image), rgb)
