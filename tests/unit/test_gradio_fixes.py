"""The fix for Gradio's file-cache race (tabs/gradio_fixes.py): a picture being downloaded is never rewritten."""

from __future__ import annotations

import os

import numpy as np
from gradio import processing_utils

from tabs import gradio_fixes


def test_the_same_picture_again_leaves_the_cached_file_alone(tmp_path):
    gradio_fixes.apply()
    picture = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    first = processing_utils.save_img_array_to_cache(picture, str(tmp_path))
    size, inode = os.path.getsize(first), os.stat(first).st_ino
    with open(first, "rb") as reader:  # a download in progress
        second = processing_utils.save_img_array_to_cache(picture, str(tmp_path))
        assert second == first and os.stat(second).st_ino == inode  # not rewritten under the reader
        assert len(reader.read()) == size
    assert not [p for p in os.listdir(os.path.dirname(first)) if p.startswith(".")]  # no staging files left


def test_bytes_cache_is_written_whole_once(tmp_path):
    gradio_fixes.apply()
    path = processing_utils.save_bytes_to_cache(b"GIF89a" + bytes(100), "steps.gif", str(tmp_path))
    with open(path, "rb") as handle:
        assert handle.read() == b"GIF89a" + bytes(100) and path.endswith("steps.gif")
    assert processing_utils.save_bytes_to_cache(b"GIF89a" + bytes(100), "steps.gif", str(tmp_path)) == path
