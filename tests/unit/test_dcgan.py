"""The image DCGAN core (core.dcgan): shapes, seeded init, one training step, determinism across
sessions and threads, eval-mode sampling, the scores, and the config's checks.

Most tests use a narrow DCGAN (width 8, batch 16) on a few random "images" so a step takes
milliseconds; the behaviour under test does not depend on the size.
"""

from __future__ import annotations

import math
import threading

import pytest
import torch
from torch import nn

from core.dcgan import (
    DCGAN,
    GRID_SIDE,
    IMAGE_LOSSES,
    DCGANConfig,
    Discriminator,
    Generator,
    dcgan_init,
    generate,
    noise_for,
)

SMALL = {"width": 8, "batch_size": 16}


def small_gan(seed: int = 0, **changes) -> DCGAN:
    """A narrow DCGAN on 64 fixed random images in [-1, 1] (no data set to load)."""
    images = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(123)) * 2 - 1
    return DCGAN(DCGANConfig(seed=seed, **{**SMALL, **changes}), train_images=images)


def trained(gan: DCGAN, steps: int = 3) -> DCGAN:
    for _ in range(steps):
        gan.train_step()
    return gan


def assert_same_state(a: nn.Module, b: nn.Module) -> None:
    state_a, state_b = a.state_dict(), b.state_dict()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key


def states_differ(a: nn.Module, b: nn.Module) -> bool:
    return any(not torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


# --- the networks ---


def test_generator_maps_noise_to_images_in_minus_one_to_one():
    images = Generator(noise_dim=64, width=8)(torch.randn(5, 64))
    assert images.shape == (5, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1


def test_discriminator_gives_one_logit_per_image():
    logits = Discriminator(width=8)(torch.rand(5, 1, 28, 28) * 2 - 1)
    assert logits.shape == (5,)


def test_dcgan_init_is_reproducible_from_the_seed():
    a = dcgan_init(Generator(64, 8), torch.Generator().manual_seed(7))
    b = dcgan_init(Generator(64, 8), torch.Generator().manual_seed(7))
    c = dcgan_init(Generator(64, 8), torch.Generator().manual_seed(8))
    assert_same_state(a, b)
    assert states_differ(a, c)


def test_dcgan_init_draws_weights_with_std_near_0_02_and_zero_biases():
    net = dcgan_init(Discriminator(width=32), torch.Generator().manual_seed(0))
    layers = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear)]
    for layer in layers:
        assert layer.weight.std().item() == pytest.approx(0.02, rel=0.15)
        assert layer.weight.mean().abs().item() < 0.005
        assert torch.count_nonzero(layer.bias) == 0


def test_dcgan_init_draws_batch_norm_scales_near_one():
    net = dcgan_init(Generator(64, 32), torch.Generator().manual_seed(0))
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)]
    assert norms
    for norm in norms:
        assert norm.weight.mean().item() == pytest.approx(1.0, abs=0.01)
        assert torch.count_nonzero(norm.bias) == 0


# --- training ---


def test_one_train_step_updates_both_networks_and_records_the_losses():
    gan = small_gan()
    g_before = [p.detach().clone() for p in gan.generator.parameters()]
    d_before = [p.detach().clone() for p in gan.discriminator.parameters()]
    out = gan.train_step()
    assert gan.step == 1
    assert any(not torch.equal(a, b) for a, b in zip(g_before, gan.generator.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, gan.discriminator.parameters(), strict=True))
    assert set(out) == {"d_loss", "g_loss"}
    assert all(math.isfinite(v) for v in out.values())
    assert gan.history == [{"step": 1, **out}]


def test_a_train_step_leaves_no_gradients_on_the_discriminator():
    """G's backward also reaches D's parameters; those gradients must not linger into the next step."""
    gan = trained(small_gan(), steps=1)
    assert all(p.grad is None for p in gan.discriminator.parameters())


def test_the_same_seed_trains_to_bit_identical_generators():
    a, b = trained(small_gan(seed=5)), trained(small_gan(seed=5))
    assert_same_state(a.generator, b.generator)
    assert [h["d_loss"] for h in a.history] == [h["d_loss"] for h in b.history]


def test_a_different_seed_trains_to_a_different_generator():
    assert states_differ(trained(small_gan(seed=5)).generator, trained(small_gan(seed=6)).generator)


def test_two_sessions_training_in_parallel_threads_match_each_trained_alone():
    """Session isolation: no global random state or shared module state leaks between concurrent runs."""
    alone = {seed: trained(small_gan(seed=seed)).generator for seed in (1, 2)}
    together = {seed: small_gan(seed=seed) for seed in (1, 2)}
    errors: list[BaseException] = []

    def run(gan: DCGAN) -> None:
        try:
            trained(gan)
        except BaseException as err:  # surfaced in the main thread below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(gan,)) for gan in together.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for seed in (1, 2):
        assert together[seed].step == 3
        assert_same_state(together[seed].generator, alone[seed])


# --- sampling ---


@pytest.mark.parametrize("training", [True, False])
def test_grid_is_64_images_and_leaves_the_generator_as_it_was(training):
    gan = trained(small_gan(), steps=1)
    gan.generator.train(training)
    before = {k: v.clone() for k, v in gan.generator.state_dict().items()}  # incl. batch-norm running stats
    grid = gan.grid()
    assert grid.shape == (GRID_SIDE**2, 1, 28, 28)
    assert gan.generator.training is training
    for key, value in gan.generator.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_grid_follows_the_fixed_noise():
    gan = trained(small_gan(), steps=1)
    assert torch.equal(gan.grid(), gan.grid())


def test_a_sample_does_not_depend_on_the_rest_of_its_batch():
    """Eval mode: batch norm uses running statistics, so 4 noises give the same images alone or among 64."""
    gan = trained(small_gan(), steps=2)
    noise = noise_for(3, 64, gan.config.noise_dim)
    torch.testing.assert_close(generate(gan.generator, noise[:4]), generate(gan.generator, noise)[:4])
    torch.testing.assert_close(gan.sample(noise[:4]), gan.sample(noise)[:4])


def test_in_train_mode_the_batch_would_matter():
    """The contrast that makes the test above meaningful: batch statistics mix samples together."""
    gan = trained(small_gan(), steps=2)
    noise = noise_for(3, 64, gan.config.noise_dim)
    with torch.no_grad():
        assert not torch.allclose(gan.generator(noise[:4]), gan.generator(noise)[:4])


# --- scores ---


def test_measure_adds_the_scores_to_the_latest_history_entry():
    gan = trained(small_gan(), steps=1)
    values = gan.measure()
    assert len(gan.history) == 1
    entry = gan.history[-1]
    assert entry["step"] == 1 and "d_loss" in entry
    assert math.isfinite(entry["fd"]) and entry["fd"] > 0
    assert len(entry["histogram"]) == 10
    assert sum(entry["histogram"]) == pytest.approx(1.0, abs=1e-6)
    assert 0 <= entry["coverage"] <= 1
    assert values == {k: entry[k] for k in ("fd", "histogram", "coverage")}


def test_measure_before_any_step_starts_the_history_at_step_0():
    gan = small_gan()
    gan.measure()
    assert [h["step"] for h in gan.history] == [0]
    assert "fd" in gan.history[0] and "d_loss" not in gan.history[0]


# --- the config ---


def test_the_default_config_passes_its_check():
    config = DCGANConfig()
    assert config.check() is config
    assert config.loss in IMAGE_LOSSES


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dataset": "cifar"}, "Unknown data set"),
        ({"loss": "wgan-gp"}, "image GAN trains with one of"),
        ({"loss": "minimax"}, "image GAN trains with one of"),
        ({"lr_g": 0.0}, "generator learning rate"),
        ({"lr_d": 0.0}, "discriminator learning rate"),
        ({"lr_g": -1e-4}, "generator learning rate"),
        ({"lr_g": float("nan")}, "generator learning rate"),
        ({"lr_d": float("inf")}, "discriminator learning rate"),
        ({"lr_g": 0.02}, "generator learning rate"),
        ({"lr_g": "0.001"}, "generator learning rate"),
        ({"width": 3}, "width"),
        ({"batch_size": 7}, "batch size"),
        ({"batch_size": 64.5}, "batch size"),
        ({"noise_dim": 0}, "noise dimension"),
    ],
    ids=lambda value: repr(value) if not isinstance(value, str) else None,
)
def test_check_refuses_bad_settings_with_a_message(changes, message):
    with pytest.raises(ValueError, match=message):
        DCGANConfig(**changes).check()


def test_a_dcgan_with_a_bad_config_is_refused_before_any_work():
    with pytest.raises(ValueError, match="image GAN trains with one of"):
        DCGAN(DCGANConfig(loss="wgan-gp"), train_images=torch.zeros(8, 1, 28, 28))


# --- noise ---


def test_noise_for_is_deterministic_and_depends_on_the_seed():
    a = noise_for(11, 16)
    assert a.shape == (16, 64)
    assert torch.equal(a, noise_for(11, 16))
    assert not torch.equal(a, noise_for(12, 16))
    assert noise_for(11, 4, noise_dim=8).shape == (4, 8)
