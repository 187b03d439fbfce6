"""core/toy2d.py: the shared 2-D world, its seeding, its ranges, its modes and drawings.

Property tests (shapes, dtypes, determinism, the plot range, the checkerboard's squares) and
known-answer tests on synthetic drawings (a horizontal bar must give a flat cloud).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from core import toy2d

N = 5_000
BUILT_IN = [name for name in toy2d.DISTRIBUTIONS if name != "drawn"]
MODE_COUNTS = {"8gaussians": 8, "ring": 24, "clusters": 2}


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _bar_rgba() -> np.ndarray:
    """A 64 x 64 transparent canvas with one opaque black horizontal bar across the middle."""
    image = np.zeros((64, 64, 4), dtype=np.uint8)
    image[30:34, 8:56] = (0, 0, 0, 255)
    return image


def test_the_distributions_in_order():
    assert list(toy2d.DISTRIBUTIONS) == [
        "8gaussians",
        "ring",
        "moons",
        "spiral",
        "checkerboard",
        "swissroll",
        "clusters",
        "drawn",
    ]
    assert all(isinstance(title, str) and title for title in toy2d.DISTRIBUTIONS.values())


@pytest.mark.parametrize("name", BUILT_IN)
def test_shape_dtype_and_name(name):
    data = toy2d.sample(name, 123, _gen())
    assert isinstance(data, toy2d.Toy2D)
    assert data.points.shape == (123, 2)
    assert data.points.dtype == torch.float32
    assert torch.isfinite(data.points).all()
    assert data.name == name


@pytest.mark.parametrize("name", BUILT_IN)
def test_same_seed_same_points_other_seed_other_points(name):
    first = toy2d.sample(name, 500, _gen(7)).points
    again = toy2d.sample(name, 500, _gen(7)).points
    other = toy2d.sample(name, 500, _gen(8)).points
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_sampling_leaves_the_global_random_state_alone():
    state = torch.get_rng_state()
    toy2d.sample("8gaussians", 100, _gen())
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_distribution_fits_the_plot_range(name):
    points = toy2d.sample(name, N, _gen()).points
    low, high = toy2d.PLOT_RANGE
    inside = ((points >= low) & (points <= high)).all(dim=1).float().mean().item()
    assert inside >= 0.995  # Gaussian noise may leave a tiny tail outside
    # and each spreads over the range rather than sitting in a corner
    assert points.abs().max().item() > 1.5
    assert points.mean(dim=0).abs().max().item() < 1.0


@pytest.mark.parametrize("name", BUILT_IN)
def test_modes_only_for_gaussian_mixtures(name):
    data = toy2d.sample(name, N, _gen())
    if name not in MODE_COUNTS:
        assert data.modes is None and data.mode_std is None
        return
    assert data.modes.shape == (MODE_COUNTS[name], 2)
    assert data.mode_std > 0
    # every point belongs to a mode: its nearest centre is within 5 sigma
    nearest = torch.cdist(data.points, data.modes).min(dim=1).values
    assert (nearest < 5 * data.mode_std).all()
    # and every mode is used, about equally
    counts = torch.bincount(torch.cdist(data.points, data.modes).argmin(dim=1), minlength=len(data.modes))
    expected = N / len(data.modes)
    assert (counts > 0.7 * expected).all() and (counts < 1.3 * expected).all()


def test_8gaussians_is_the_classic_benchmark():
    data = toy2d.sample("8gaussians", N, _gen())
    assert torch.allclose(data.modes.norm(dim=1), torch.full((8,), 2.0))
    assert data.mode_std == pytest.approx(0.1)
    ring = toy2d.sample("ring", N, _gen())
    assert torch.allclose(ring.modes.norm(dim=1), torch.full((24,), 3.0))
    assert ring.mode_std == pytest.approx(0.05)


def test_checkerboard_fills_alternating_squares():
    points = toy2d.sample("checkerboard", N, _gen()).points
    column, row = torch.floor(points[:, 0] / 2).long(), torch.floor(points[:, 1] / 2).long()
    assert ((column + row) % 2 == 0).all()  # never in an odd square
    occupied = set(zip(column.tolist(), row.tolist(), strict=True))
    even_squares = {(c, r) for c in range(-2, 2) for r in range(-2, 2) if (c + r) % 2 == 0}
    assert occupied == even_squares  # all 8 even squares of the 4 x 4 board


def test_clusters_leave_the_gap_empty():
    points = toy2d.sample("clusters", N, _gen()).points
    assert (points[:, 0].abs() > 0.5).all()
    assert (points[:, 0] < 0).float().mean().item() == pytest.approx(0.5, abs=0.05)


def test_drawn_horizontal_bar_gives_a_flat_cloud():
    data = toy2d.points_from_drawing(_bar_rgba(), 2_000, _gen())
    assert data.points.shape == (2_000, 2) and data.points.dtype == torch.float32
    assert data.modes is None and data.mode_std is None and data.name == "drawn"
    spread = data.points.std(dim=0)
    assert spread[1] < 0.2  # the bar is 4 of 64 pixels high: 0.5 plot units
    assert spread[0] > 1.5  # and 48 of 64 pixels wide: 6 plot units
    # rows 30..33 of 64 lie just above the middle; y points up
    assert 0.0 < data.points[:, 1].mean().item() < 0.3
    assert data.points[:, 0].min().item() > -3.2 and data.points[:, 0].max().item() < 3.2


def test_drawn_pixels_map_with_y_up():
    image = np.zeros((64, 64, 4), dtype=np.uint8)
    image[0:4, 0:4, 3] = 255  # top-left corner
    points = toy2d.points_from_drawing(image, 200, _gen(), jitter=0.0).points
    assert (points[:, 0] < -3.4).all() and (points[:, 1] > 3.4).all()
    assert (points.abs() <= 4.0).all()


def test_drawn_rgb_white_canvas_with_a_black_stroke():
    image = np.full((64, 64, 3), 255, dtype=np.uint8)
    image[8:56, 30:33] = 0  # a vertical stroke
    points = toy2d.points_from_drawing(image, 1_000, _gen()).points
    spread = points.std(dim=0)
    assert spread[0] < 0.2 and spread[1] > 1.5


def test_drawn_opaque_rgba_uses_colour_not_alpha():
    image = np.full((64, 64, 4), 255, dtype=np.uint8)  # white, opaque everywhere
    image[30:34, 8:56, :3] = 0
    points = toy2d.points_from_drawing(image, 1_000, _gen()).points
    assert points.std(dim=0)[1] < 0.2


def test_drawn_is_seeded_and_sample_delegates():
    direct = toy2d.points_from_drawing(_bar_rgba(), 500, _gen(3)).points
    via_sample = toy2d.sample("drawn", 500, _gen(3), drawing=_bar_rgba()).points
    assert torch.equal(direct, via_sample)
    assert not torch.equal(direct, toy2d.points_from_drawing(_bar_rgba(), 500, _gen(4)).points)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((64, 64, 4), dtype=np.uint8),  # all transparent
        np.full((64, 64, 3), 255, dtype=np.uint8),  # all white
        np.full((64, 64, 4), 255, dtype=np.uint8),  # all opaque white
        np.full((32, 32), 255, dtype=np.uint8),  # grey, all white
    ],
    ids=["transparent", "white-rgb", "white-rgba", "white-grey"],
)
def test_an_empty_drawing_is_refused_clearly(image):
    with pytest.raises(ValueError, match=re.escape("The drawing is empty: draw some strokes first.")):
        toy2d.points_from_drawing(image, 100, _gen())
    with pytest.raises(ValueError, match="The drawing is empty"):
        toy2d.sample("drawn", 100, _gen(), drawing=image)


def test_drawn_without_a_drawing_is_refused():
    with pytest.raises(ValueError, match="needs a drawing"):
        toy2d.sample("drawn", 100, _gen())


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match=r"8gaussians.*swissroll"):
        toy2d.sample("banana", 100, _gen())


@pytest.mark.parametrize("n", [0, -1, 200_001, 2.5, "100", True])
def test_bad_n_is_refused(n):
    with pytest.raises(ValueError, match="number of points"):
        toy2d.sample("moons", n, _gen())


def test_n_at_the_limits_is_accepted():
    assert toy2d.sample("moons", 1, _gen()).points.shape == (1, 2)
    assert toy2d.sample("8gaussians", 200_000, _gen()).points.shape == (200_000, 2)
    assert toy2d.sample("moons", 10.0, _gen()).points.shape == (10, 2)  # a slider's float


def test_grid_covers_the_plot_range_row_major():
    points = toy2d.grid(steps=5)
    assert points.shape == (25, 2)
    low, high = toy2d.PLOT_RANGE
    assert points[0].tolist() == [low, low] and points[-1].tolist() == [high, high]
    rows = points.reshape(5, 5, 2)
    assert torch.allclose(rows[0, :, 1], torch.full((5,), low))  # first row: bottom edge, x increasing
    assert torch.all(rows[0, 1:, 0] > rows[0, :-1, 0])
    assert toy2d.grid((0, 1), (-1, 0), steps=3)[1].tolist() == [0.5, -1.0]
    with pytest.raises(ValueError):
        toy2d.grid(steps=1)
