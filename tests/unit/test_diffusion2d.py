"""core.diffusion2d: the live 2-D DDPM learns, samples near the data, and its field points at the data."""

from __future__ import annotations

import pytest
import torch

from core import diffusion
from core.device import single_cpu_thread
from core.diffusion2d import Diffusion2D, Diffusion2DConfig


@pytest.fixture(scope="module")
def trained() -> Diffusion2D:
    model = Diffusion2D(Diffusion2DConfig(dataset="8gaussians", seed=0))
    with single_cpu_thread():
        list(model.train(1500, every=500))
    return model


def test_training_lowers_the_loss_and_reports_progress(trained):
    losses = [entry["loss"] for entry in trained.history]
    assert len(losses) == 3 and trained.iteration == 1500
    assert losses[-1] < 0.5 < 1.0  # untrained, predicting noise costs ~1 per coordinate


def test_samples_land_near_the_modes_with_every_sampler(trained):
    for sampler, steps in (("ddpm", 100), ("ddim", 30), ("euler", 30), ("dpm++2m", 15)):
        kept, final = trained.sample(400, sampler, steps, seed=1)
        assert len(kept) == steps and kept[0].t == diffusion.T - 1
        quality = trained.quality(final)
        assert quality.coverage >= 0.75, (sampler, quality)
        assert quality.mmd < 0.3, (sampler, quality)


def test_same_seed_same_particles_different_seed_different(trained):
    _, a = trained.sample(50, "ddpm", 20, seed=3)
    _, b = trained.sample(50, "ddpm", 20, seed=3)
    _, c = trained.sample(50, "ddpm", 20, seed=4)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_the_score_field_points_back_towards_the_data(trained):
    points, score = trained.score_field(t=300, steps=9)
    assert points.shape == score.shape == (81, 2)
    far = points.norm(dim=1) > 5  # the corners, outside the circle of modes
    inward = (score[far] * -points[far]).sum(dim=1) > 0
    assert inward.float().mean() > 0.9


def test_two_models_with_the_same_seed_train_identically():
    a, b = (Diffusion2D(Diffusion2DConfig(dataset="moons", seed=5)) for _ in range(2))
    for model in (a, b):
        list(model.train(20, every=10))
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize(
    "change, message",
    [({"dataset": "galaxy"}, "Unknown data set"), ({"schedule": "sqrt"}, "schedule"), ({"lr": 0.0}, "learning rate")],
)
def test_bad_settings_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        Diffusion2D(Diffusion2DConfig(**change))


def test_iteration_bounds():
    model = Diffusion2D(Diffusion2DConfig())
    with pytest.raises(ValueError, match="iterations"):
        list(model.train(0))
