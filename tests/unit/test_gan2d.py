"""The 2-D GAN core (core.gan2d): losses on known values, one-network steps, determinism, frames."""

from __future__ import annotations

import math

import pytest
import torch

from core.gan2d import (
    GAN2D,
    LOSSES,
    SHOWN_POINTS,
    SURFACE_STEPS,
    GANConfig,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    surface_probability,
)

SMALL = {"hidden": 16, "batch_size": 32}


def test_logistic_losses_on_known_values():
    zero = torch.zeros(4)
    # D unsure (logit 0 everywhere): -log(1/2) for real plus -log(1/2) for fake
    assert discriminator_loss("non-saturating", zero, zero).item() == pytest.approx(2 * math.log(2))
    assert generator_loss("non-saturating", zero).item() == pytest.approx(math.log(2))
    assert generator_loss("minimax", zero).item() == pytest.approx(-math.log(2))
    # a confident D rejecting fakes: the minimax G loss is flat (vanishing gradient), the NS one is not
    fake = torch.full((4,), -8.0, requires_grad=True)
    (g_minimax,) = torch.autograd.grad(generator_loss("minimax", fake), fake)
    (g_ns,) = torch.autograd.grad(generator_loss("non-saturating", fake), fake)
    assert g_minimax.abs().max() < 1e-3 < g_ns.abs().min()


def test_other_losses_on_known_values():
    real, fake = torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0])
    assert discriminator_loss("least-squares", real, fake).item() == 0.0  # perfect LSGAN discriminator
    assert generator_loss("least-squares", fake).item() == pytest.approx(0.5)
    assert discriminator_loss("wgan-gp", torch.tensor([3.0]), torch.tensor([1.0])).item() == -2.0
    assert discriminator_loss("hinge", torch.tensor([2.0]), torch.tensor([-2.0])).item() == 0.0  # outside margins
    assert generator_loss("hinge", torch.tensor([0.5])).item() == -0.5
    with pytest.raises(ValueError):
        discriminator_loss("nope", real, fake)


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    critic = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]))  # |gradient| = 1 everywhere
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    assert gradient_penalty(critic, real, fake, torch.rand(8, 1)).item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        critic.weight.mul_(3)  # |gradient| = 3: penalty (3 - 1)^2 = 4
    assert gradient_penalty(critic, real, fake, torch.rand(8, 1)).item() == pytest.approx(4.0)


def test_surface_is_a_probability_for_every_loss():
    scores = torch.linspace(-5, 5, 11)
    for loss in LOSSES:
        p = surface_probability(loss, scores)
        assert p.min() >= 0 and p.max() <= 1


def test_same_config_same_numbers_and_seed_matters():
    a, b = GAN2D(GANConfig(seed=3, **SMALL)), GAN2D(GANConfig(seed=3, **SMALL))
    for _ in range(15):
        a.train_step()
        b.train_step()
    assert torch.equal(a.sample(), b.sample())
    assert a.history == b.history
    c = GAN2D(GANConfig(seed=4, **SMALL))
    for _ in range(15):
        c.train_step()
    assert not torch.equal(a.sample(), c.sample())


def test_two_sessions_training_at_once_reproduce_their_solo_runs():
    """Session isolation: two users' GANs (different seeds) trained in parallel threads, as the server
    runs two Play loops, end bit-identical to each trained alone."""
    import threading

    from core.device import single_cpu_thread

    def train(gan):
        with single_cpu_thread():  # what the tab's Play loop does around its steps
            for _ in range(200):
                gan.train_step()

    solo = {seed: GAN2D(GANConfig(seed=seed, **SMALL)) for seed in (1, 2)}
    for gan in solo.values():
        train(gan)
    together = {seed: GAN2D(GANConfig(seed=seed, **SMALL)) for seed in (1, 2)}
    threads = [threading.Thread(target=train, args=(gan,)) for gan in together.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed in (1, 2):
        for alone, shared in zip(solo[seed].generator.parameters(), together[seed].generator.parameters(), strict=True):
            assert torch.equal(alone, shared)
        assert solo[seed].history == together[seed].history


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def test_one_network_steps_leave_the_other_alone():
    gan = GAN2D(GANConfig(**SMALL))
    g_before, d_before = _params(gan.generator), _params(gan.discriminator)
    gan.train_step("d")
    assert all(torch.equal(x, y) for x, y in zip(g_before, _params(gan.generator), strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(d_before, _params(gan.discriminator), strict=True))
    d_before = _params(gan.discriminator)
    gan.train_step("g")
    assert all(torch.equal(x, y) for x, y in zip(d_before, _params(gan.discriminator), strict=True))
    assert gan.step == 1 and [set(h) for h in gan.history] == [{"step", "d_loss"}, {"step", "g_loss"}]


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_a_frame_has_everything_a_picture_needs(loss):
    gan = GAN2D(GANConfig(loss=loss, noise_dim=3, noise="uniform", d_steps=2, **SMALL))
    for _ in range(10):
        gan.train_step(record_every=5)
    frame = gan.frame()
    assert frame.real.shape == frame.fake.shape == frame.arrows.shape == (SHOWN_POINTS, 2)
    assert frame.surface.shape == (SURFACE_STEPS, SURFACE_STEPS) and frame.surface.isfinite().all()
    assert len(frame.manifold) == 2 * 9 and all(line.shape == (40, 2) for line in frame.manifold)
    assert [h["step"] for h in frame.history] == [5, 10]
    assert all(math.isfinite(h["d_loss"]) and math.isfinite(h["g_loss"]) for h in frame.history)


def test_arrows_point_where_the_generator_update_moves_the_points():
    gan = GAN2D(GANConfig(optimizer="sgd", lr_g=0.05, **SMALL))
    frame = gan.frame()
    # move every fake a little along its arrow: G's loss on those points must go down
    before = generator_loss(gan.config.loss, gan.discriminator(frame.fake)).item()
    moved = frame.fake + 1e-3 * frame.arrows / frame.arrows.norm(dim=1, keepdim=True).clamp_min(1e-12)
    after = generator_loss(gan.config.loss, gan.discriminator(moved)).item()
    assert after < before


def test_measure_reports_mmd_and_coverage():
    gan = GAN2D(GANConfig(**SMALL))
    values = gan.measure()
    assert values["mmd"] > 0 and 0 <= values["coverage"] <= 1
    assert GAN2D(GANConfig(dataset="moons", **SMALL)).measure()["coverage"] is None  # no discrete modes


@pytest.mark.parametrize(
    "change, message",
    [
        ({"dataset": "nope"}, "data set"),
        ({"loss": "nope"}, "loss"),
        ({"optimizer": "nope"}, "optimizer"),
        ({"lr_g": float("nan")}, "learning rate"),
        ({"lr_d": 0.0}, "learning rate"),
        ({"d_steps": 0}, "D steps"),
        ({"noise_dim": 2.5}, "noise dimension"),
        ({"batch_size": 10**6}, "batch size"),
        ({"noise": "cauchy"}, "noise"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(change, message):
    with pytest.raises(ValueError, match=message):
        GAN2D(GANConfig(**{**SMALL, **change}))
