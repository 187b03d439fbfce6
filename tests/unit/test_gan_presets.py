"""Each GAN preset shows its phenomenon with its fixed seed (what the tab's caption promises)."""

from __future__ import annotations

import pytest
import torch

from core.gan2d import GAN2D, PRESETS, GANConfig


def _run(settings: dict, steps: int, every: int = 0) -> tuple[GAN2D, list[torch.Tensor]]:
    gan = GAN2D(GANConfig(**settings))
    centres = []
    for step in range(1, steps + 1):
        gan.train_step()
        if every and step % every == 0:
            centres.append(gan.sample().mean(0))
    return gan, centres


def _push(gan: GAN2D) -> float:
    return float(gan.frame().arrows.norm(dim=1).mean())


def test_presets_are_valid_settings():
    for settings, caption in PRESETS.values():
        GANConfig(**settings).check()
        assert caption.endswith(".")


def test_healthy_convergence_covers_every_mode():
    gan, _ = _run(PRESETS["Healthy convergence"][0], 1_500)
    values = gan.measure()
    assert values["coverage"] == 1.0 and values["mmd"] < 0.15


def test_mode_collapse_leaves_most_modes_empty():
    gan, _ = _run(PRESETS["Mode collapse"][0], 1_000)
    assert gan.measure()["coverage"] <= 0.25


def test_oscillation_swings_the_generated_cloud():
    _, centres = _run(PRESETS["Oscillation"][0], 600, every=50)
    xs = torch.stack(centres)[:, 0]
    assert xs.max() - xs.min() > 1.5  # the cloud's centre moves across the plane, it does not settle


@pytest.mark.parametrize("loss, stalls", [("minimax", True), ("non-saturating", False)])
def test_vanishing_gradient_stalls_minimax_but_not_non_saturating(loss, stalls):
    settings = {**PRESETS["Vanishing gradient"][0], "loss": loss}
    gan, _ = _run(settings, 150)
    push = _push(gan)
    assert (push < 1e-3) if stalls else (push > 0.1), push
