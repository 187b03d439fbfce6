"""One seed, the same initial noise everywhere."""

from __future__ import annotations

import pytest
import torch

from core import seeding


def test_same_seed_same_noise_different_seed_different_noise():
    a = seeding.initial_noise(7, (4, 1, 28, 28))
    assert torch.equal(a, seeding.initial_noise(7, (4, 1, 28, 28)))
    assert not torch.equal(a, seeding.initial_noise(8, (4, 1, 28, 28)))


def test_noise_is_standard_normal():
    x = seeding.initial_noise(0, (200_000,))
    assert abs(x.mean().item()) < 0.01 and abs(x.std().item() - 1) < 0.01


def test_generator_does_not_touch_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    seeding.initial_noise(5, (10,))
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("bad", [-1, 1.5, 2**31, float("nan")])
def test_bad_seeds_are_refused_clearly(bad):
    with pytest.raises(ValueError, match="whole number"):
        seeding.check_seed(bad)


def test_empty_seed_box_means_the_default():
    assert seeding.check_seed(None) == seeding.DEFAULT_SEED
    assert seeding.check_seed(42.0) == 42
