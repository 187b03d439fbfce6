"""The shared image world: one convention, shipped subsets, the full-set readers."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from core import images


@pytest.mark.parametrize("name", list(images.DATASETS))
@pytest.mark.parametrize(("split", "size"), [("train", 5_000), ("test", 1_000)])
def test_subsets_follow_the_convention(name, split, size):
    data = images.load_subset(name, split)
    assert data.images.shape == (size, 1, 28, 28) and data.images.dtype == torch.float32
    assert data.images.min() >= -1.0 and data.images.max() <= 1.0
    assert data.images.min() == -1.0  # black background
    assert data.labels.dtype == torch.int64 and set(data.labels.tolist()) == set(range(10))
    counts = torch.bincount(data.labels, minlength=10).float() / size
    assert counts.min() > 0.06  # every class well represented (random draw from balanced sets)
    assert len(data.info.class_names) == 10


def test_class_names():
    assert images.info("mnist").class_names[7] == "seven"
    assert images.info("fashion").class_names[7] == "sneaker"
    with pytest.raises(ValueError, match="Unknown image data set"):
        images.info("cifar")


def test_pixels_round_trip_exactly():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16).repeat(2, 0)
    pixels = np.pad(pixels, ((0, 0), (6, 6), (6, 6)))
    assert np.array_equal(images.to_pixels(images.from_pixels(pixels)), pixels)
    assert images.from_pixels(pixels).shape == (2, 1, 28, 28)


def test_to_pixels_clips_out_of_range_values():
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 5.0]).view(1, 1, 1, 5)
    assert images.to_pixels(x).tolist() == [[[0, 0, 128, 255, 255]]]


def test_read_idx_known_answer(tmp_path):
    data = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x-idx3-ubyte.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(bytes([0, 0, 8, 3]) + struct.pack(">iii", 2, 3, 4) + data.tobytes())
    assert np.array_equal(images.read_idx(path), data)


def test_subset_images_are_real_digits_not_noise():
    """Mean image of the 1s is a vertical bar: bright centre column, dark corners."""
    data = images.load_subset("mnist", "train")
    ones = data.images[data.labels == 1].mean(0)[0]
    assert ones[8:20, 13:15].mean() > 0.0 and ones[:4, :4].mean() < -0.95
