"""core/metrics.py: known answers for every metric, and the properties a learner relies on.

Known answers: MMD between two point masses (closed form), coverage of 2 of 8 modes = 0.25,
Fréchet distance of shifted Gaussians = |shift|^2 and of diagonal covariances =
sum (sqrt(a) - sqrt(b))^2, class coverage of 2 of 10 classes = 0.2.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from core import metrics, toy2d

BANDWIDTHS = (0.1, 0.2, 0.5, 1.0, 2.0)
N_MMD = 600  # MMD is O(n^2): enough points to separate distributions, few enough to stay fast


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _points(name: str, n: int, seed: int) -> torch.Tensor:
    return toy2d.sample(name, n, _gen(seed)).points


# -----------------------------------------------------------------------------
# MMD


def test_mmd_of_two_point_masses_is_the_closed_form():
    # all x at (0, 0), all y at (1, 0): k(x, x') = k(y, y') = 1, k(x, y) = exp(-1/2) for h = 1
    x, y = torch.zeros(50, 2), torch.tensor([[1.0, 0.0]]).repeat(70, 1)
    expected = 2 - 2 * math.exp(-0.5)
    assert metrics.mmd_rbf(x, y, bandwidths=(1.0,)) == pytest.approx(expected, rel=1e-9)
    assert metrics.mmd_rbf(x, y, bandwidths=(1.0, 1.0)) == pytest.approx(2 * expected, rel=1e-9)


def test_mmd_of_a_set_with_itself_is_about_zero():
    x = _points("8gaussians", N_MMD, 0)
    # the V-statistic (diagonal kept) is exactly 0 for identical sets
    assert metrics.mmd_rbf(x, x, unbiased=False) == pytest.approx(0.0, abs=1e-9)
    # the unbiased U-statistic is not: it is 2 (mean off-diagonal k - k(a, a)) / n, just below 0
    unbiased = metrics.mmd_rbf(x, x)
    assert -2 * len(BANDWIDTHS) / len(x) < unbiased < 0


def test_mmd_separates_same_from_different_distributions():
    a, b = _points("8gaussians", N_MMD, 0), _points("8gaussians", N_MMD, 1)
    moons = _points("moons", N_MMD, 2)
    same = metrics.mmd_rbf(a, b)
    different = metrics.mmd_rbf(a, moons)
    assert abs(same) < 0.01
    assert different > 0.1
    assert different > 20 * abs(same)
    assert metrics.mmd_rbf(moons, a) == pytest.approx(different, rel=1e-9)  # symmetric


def test_mmd_grows_as_a_mode_is_dropped():
    data = toy2d.sample("8gaussians", N_MMD, _gen(0))
    fake = _points("8gaussians", N_MMD, 1)
    nearest = torch.cdist(fake, data.modes).argmin(dim=1)
    collapsed = fake[nearest < 4]  # half of the modes dropped
    assert metrics.mmd_rbf(collapsed, data.points) > 5 * abs(metrics.mmd_rbf(fake, data.points))


def test_mmd_subsamples_large_sets_deterministically(monkeypatch):
    monkeypatch.setattr(metrics, "MMD_MAX_POINTS", 300)  # the real cap (2,000) is slow on a small CPU
    x, y = _points("spiral", 1_000, 0), _points("moons", 700, 1)
    first = metrics.mmd_rbf(x, y)
    assert metrics.mmd_rbf(x, y) == first  # the subsample is drawn by a fixed private generator
    assert metrics.mmd_rbf(x.numpy(), y.numpy()) == pytest.approx(first, rel=1e-9)  # arrays work too
    monkeypatch.setattr(metrics, "MMD_MAX_POINTS", 2_000)
    assert metrics.mmd_rbf(x[:300], y[:300]) != first  # the cap really subsampled


def test_mmd_refuses_too_few_samples_and_mismatched_dimensions():
    with pytest.raises(ValueError, match="at least 2"):
        metrics.mmd_rbf(torch.zeros(1, 2), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="dimensions"):
        metrics.mmd_rbf(torch.zeros(5, 2), torch.zeros(5, 3))


# -----------------------------------------------------------------------------
# modes


def test_coverage_of_two_of_eight_modes_is_a_quarter():
    data = toy2d.sample("8gaussians", 2_000, _gen(0))
    fake = data.modes[torch.tensor([0, 1])].repeat(500, 1) + 0.1 * torch.randn(1_000, 2, generator=_gen(1))
    assert metrics.mode_coverage(fake, data.modes, data.mode_std) == 0.25
    assert metrics.mode_coverage(data.points, data.modes, data.mode_std) == 1.0
    # a mode with a single stray sample is covered at min_count=1, not at min_count=10
    stray = torch.cat([fake, data.modes[2:3]])
    assert metrics.mode_coverage(stray, data.modes, data.mode_std) == 0.375
    assert metrics.mode_coverage(stray, data.modes, data.mode_std, min_count=10) == 0.25
    # samples 5 sigma off a mode do not cover it, however many there are
    off_mode = data.modes[2] * (1 + 5 * data.mode_std / 2.0) + torch.zeros(100, 2)
    assert metrics.mode_coverage(torch.cat([fake, off_mode]), data.modes, data.mode_std) == 0.25


def test_share_near_modes_of_true_samples_and_of_noise():
    data = toy2d.sample("8gaussians", 5_000, _gen(0))
    true_share = metrics.share_near_modes(_points("8gaussians", 5_000, 1), data.modes, data.mode_std)
    assert true_share > 0.98  # 1 - exp(-9/2) = 0.989 of a 2-D Gaussian lies within 3 sigma
    noise = 8 * torch.rand(5_000, 2, generator=_gen(2)) - 4
    noise_share = metrics.share_near_modes(noise, data.modes, data.mode_std)
    assert noise_share < 0.06  # 8 discs of radius 0.3 cover 3.5% of [-4, 4]^2
    assert metrics.mode_coverage(noise, data.modes, data.mode_std) == 1.0  # noise covers, without quality


def test_metrics_2d():
    data = toy2d.sample("8gaussians", N_MMD, _gen(0))
    result = metrics.metrics_2d(_points("8gaussians", N_MMD, 1), data)
    assert isinstance(result, metrics.Metrics2D)
    assert abs(result.mmd) < 0.01 and result.coverage == 1.0 and result.near_modes > 0.97
    moons = toy2d.sample("moons", N_MMD, _gen(0))
    no_modes = metrics.metrics_2d(_points("moons", N_MMD, 1), moons)
    assert no_modes.coverage is None and no_modes.near_modes is None and abs(no_modes.mmd) < 0.01


def test_mode_metrics_refuse_empty_samples():
    with pytest.raises(ValueError, match="no samples"):
        metrics.share_near_modes(torch.zeros(0, 2), torch.zeros(8, 2), 0.1)


# -----------------------------------------------------------------------------
# Fréchet distance


def test_frechet_of_a_set_with_itself_is_zero():
    x = torch.randn(2_000, 4, generator=_gen(0))
    assert metrics.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


def test_frechet_of_two_samples_of_one_gaussian_is_small():
    x, y = torch.randn(5_000, 4, generator=_gen(0)), torch.randn(5_000, 4, generator=_gen(1))
    assert metrics.frechet_distance(x, y) < 0.02


def test_frechet_of_shifted_gaussians_is_the_squared_shift():
    x, y = torch.randn(20_000, 4, generator=_gen(0)), torch.randn(20_000, 4, generator=_gen(1))
    assert metrics.frechet_distance(x, y + 3.0) == pytest.approx(36.0, rel=0.03)  # |(3, 3, 3, 3)|^2


def test_frechet_of_diagonal_covariances_is_the_closed_form():
    a, b = torch.tensor([1.0, 4.0, 9.0, 0.25]), torch.tensor([4.0, 1.0, 1.0, 1.0])
    x = torch.randn(40_000, 4, generator=_gen(0), dtype=torch.float64) * a.sqrt()
    y = torch.randn(40_000, 4, generator=_gen(1), dtype=torch.float64) * b.sqrt()
    expected = ((a.sqrt() - b.sqrt()) ** 2).sum().item()  # 1 + 1 + 4 + 0.25 = 6.25
    assert metrics.frechet_distance(x, y) == pytest.approx(expected, rel=0.05)
    assert metrics.frechet_distance(x.numpy(), y.numpy()) == pytest.approx(metrics.frechet_distance(x, y))


def test_frechet_survives_singular_covariances():
    # 3 samples in 50 dimensions: rank-2 covariances, whose product has no clean square root
    x, y = torch.randn(3, 50, generator=_gen(0)), torch.randn(3, 50, generator=_gen(1))
    distance = metrics.frechet_distance(x, y)
    assert math.isfinite(distance) and distance > 0
    constant = torch.ones(10, 3)
    assert metrics.frechet_distance(constant, constant) == 0.0
    assert metrics.frechet_distance(constant, constant + 2.0) == pytest.approx(12.0, rel=1e-4)


def test_frechet_refuses_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        metrics.frechet_distance(torch.zeros(1, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="dimensions"):
        metrics.frechet_distance(torch.zeros(5, 3), torch.zeros(5, 4))
    with pytest.raises(ValueError, match="NaN"):
        metrics.frechet_distance(torch.full((5, 3), float("nan")), torch.zeros(5, 3))


# -----------------------------------------------------------------------------
# classes


def test_class_histogram_counts_shares():
    labels = torch.tensor([0, 0, 1, 3, 3, 3, 3, 3])
    histogram = metrics.class_histogram(labels, 5)
    assert histogram.shape == (5,)
    assert histogram.tolist() == pytest.approx([0.25, 0.125, 0.0, 0.625, 0.0])
    random = torch.randint(10, (1_000,), generator=_gen(0))
    assert metrics.class_histogram(random, 10).sum().item() == pytest.approx(1.0)
    assert metrics.class_histogram(np.array([1, 2]), 3).tolist() == pytest.approx([0.0, 0.5, 0.5])


def test_class_coverage_of_two_of_ten_classes():
    labels = torch.tensor([3, 7])[torch.randint(2, (1_000,), generator=_gen(0))]
    assert metrics.class_coverage(labels, 10) == pytest.approx(0.2)
    assert metrics.class_coverage(torch.arange(10).repeat(5), 10) == 1.0
    # min_share: a class with 1 of 100 labels is not covered at 2%, is at 1%
    rare = torch.cat([torch.zeros(99, dtype=torch.long), torch.tensor([1])])
    assert metrics.class_coverage(rare, 2) == 0.5
    assert metrics.class_coverage(rare, 2, min_share=0.01) == 1.0


def test_class_metrics_refuse_bad_labels():
    with pytest.raises(ValueError, match="no labels"):
        metrics.class_histogram(torch.tensor([], dtype=torch.long), 10)
    with pytest.raises(ValueError, match=re.escape("0 .. 9")):
        metrics.class_histogram(torch.tensor([0, 10]), 10)
    with pytest.raises(ValueError, match="integers"):
        metrics.class_coverage(torch.tensor([0.5, 1.0]), 10)
