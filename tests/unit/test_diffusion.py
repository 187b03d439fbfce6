"""core.diffusion: schedules, the forward process, and each sampler's step against diffusers' schedulers."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from core import diffusion as d

SCHEDULES = {"linear": "linear", "cosine": "squaredcos_cap_v2"}  # ours -> diffusers' name


@pytest.mark.parametrize("name", d.SCHEDULES)
def test_schedule_endpoints_and_monotonic_noise(name):
    s = d.make_schedule(name)
    assert len(s.betas) == d.T
    assert 0.99 < s.alphas_cumprod[0] < 1  # almost clean at t = 0
    assert s.alphas_cumprod[-1] < 1e-3  # almost pure noise at t = T-1
    assert torch.all(s.alphas_cumprod[1:] < s.alphas_cumprod[:-1])
    assert torch.all(s.log_snr[1:] < s.log_snr[:-1])
    assert s.alpha_bar(-1) == 1.0


def test_linear_schedule_is_the_ddpm_papers():
    s = d.make_schedule("linear")
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="schedule"):
        d.make_schedule("quadratic")


@pytest.mark.parametrize("name", d.SCHEDULES)
def test_schedules_equal_diffusers(name):
    from diffusers import DDPMScheduler

    ours = d.make_schedule(name).alphas_cumprod
    theirs = DDPMScheduler(num_train_timesteps=d.T, beta_schedule=SCHEDULES[name]).alphas_cumprod.double()
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)


@pytest.mark.parametrize("t", [0, 250, 999])
def test_q_sample_has_the_closed_form_moments(t):
    s = d.make_schedule("linear")
    x0 = torch.full((200_000,), 0.7, dtype=torch.float64)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(t), dtype=torch.float64)
    x_t = d.q_sample(s, x0, t, noise)
    abar = s.alphas_cumprod[t].item()
    assert x_t.mean().item() == pytest.approx(math.sqrt(abar) * 0.7, abs=0.01)
    assert x_t.var().item() == pytest.approx(1 - abar, abs=0.01 + 0.01 * (1 - abar))


def test_q_sample_takes_a_timestep_per_sample():
    s = d.make_schedule("cosine")
    x0, noise = torch.ones(3, 1, 2, 2), torch.zeros(3, 1, 2, 2)
    x_t = d.q_sample(s, x0, torch.tensor([0, 500, 999]), noise)
    expected = s.alphas_cumprod[[0, 500, 999]].sqrt().float()
    torch.testing.assert_close(x_t[:, 0, 0, 0], expected)


def test_predict_x0_inverts_q_sample():
    s = d.make_schedule("linear")
    x0, eps = torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28)
    x_t = d.q_sample(s, x0, 600, eps)
    torch.testing.assert_close(d.predict_x0(x_t, eps, s.alpha_bar(600)), x0, atol=1e-4, rtol=0)


def test_timesteps_trail_from_pure_noise_and_can_start_lower():
    assert d.timesteps(1) == [999]
    assert d.timesteps(4) == [999, 749, 499, 249]
    grid = d.timesteps(50)
    assert grid[0] == 999 and grid[-1] == 19 and len(set(grid)) == 50
    assert d.timesteps(3, start=299) == [299, 199, 99]
    assert d.timesteps(1000) == list(range(999, -1, -1))
    with pytest.raises(ValueError):
        d.timesteps(0)
    with pytest.raises(ValueError):
        d.timesteps(301, start=299)


# --- reference tests: one step equals diffusers' scheduler step (same model output, sample, generator) ---


def _same_schedule(name: str, reference) -> d.Schedule:
    """Our schedule type holding diffusers' own (float32) numbers: the test compares step functions only
    (the schedules themselves agree to 1e-6, above; near t = T-1 dividing by sqrt(alpha-bar) ~ 0.006
    would magnify that float32 rounding past 1e-5)."""
    return d.Schedule(name, reference.betas.double(), reference.alphas_cumprod.double())


def _sample_and_model_output() -> tuple[torch.Tensor, torch.Tensor]:
    """float64, so both sides do the same arithmetic (diffusers computes in the samples' dtype)."""
    generator = torch.Generator().manual_seed(0)
    return tuple(torch.randn(3, 1, 28, 28, generator=generator, dtype=torch.float64) for _ in range(2))


@pytest.mark.parametrize("name", d.SCHEDULES)
def test_ddpm_step_equals_diffusers(name):
    from diffusers import DDPMScheduler

    grid = d.timesteps(25)
    reference = DDPMScheduler(num_train_timesteps=d.T, beta_schedule=SCHEDULES[name])
    reference.set_timesteps(timesteps=grid)
    s = _same_schedule(name, reference)
    x, eps = _sample_and_model_output()
    for i, t in enumerate(grid):
        t_prev = grid[i + 1] if i + 1 < len(grid) else -1
        ours = d.ddpm_step(s, eps, t, t_prev, x, torch.Generator().manual_seed(i))
        theirs = reference.step(eps, t, x, generator=torch.Generator().manual_seed(i))
        torch.testing.assert_close(ours.x_prev, theirs.prev_sample, atol=1e-5, rtol=0)
        torch.testing.assert_close(ours.x0, theirs.pred_original_sample, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", d.SCHEDULES)
@pytest.mark.parametrize("eta", [0.0, 0.3, 1.0])
def test_ddim_step_equals_diffusers(name, eta):
    from diffusers import DDIMScheduler

    reference = DDIMScheduler(num_train_timesteps=d.T, beta_schedule=SCHEDULES[name])
    reference.set_timesteps(20)  # diffusers steps t -> t - 50
    s = _same_schedule(name, reference)
    x, eps = _sample_and_model_output()
    for t in reference.timesteps.tolist():
        ours = d.ddim_step(s, eps, t, t - 50, x, eta, torch.Generator().manual_seed(t))
        theirs = reference.step(eps, t, x, eta=eta, generator=torch.Generator().manual_seed(t))
        torch.testing.assert_close(ours.x_prev, theirs.prev_sample, atol=1e-5, rtol=0)
        torch.testing.assert_close(ours.x0, theirs.pred_original_sample, atol=1e-5, rtol=0)


def test_ddim_refuses_eta_outside_0_1():
    s = d.make_schedule("linear")
    with pytest.raises(ValueError, match="eta"):
        d.ddim_step(s, torch.zeros(1), 10, 0, torch.zeros(1), eta=1.5)


# --- the samplers on a case with a known answer ---


def _oracle(schedule, x0):
    """The perfect denoiser for data that is the single point x0: eps = (x_t - sqrt(abar) x0) / sqrt(1 - abar)."""

    def eps_model(x, t):
        abar = schedule.alpha_bar(t)
        return (x - abar**0.5 * x0) / (1 - abar) ** 0.5

    return eps_model


@pytest.mark.parametrize("sampler", list(d.SAMPLERS))
@pytest.mark.parametrize("steps", [1, 5, 50])
def test_every_sampler_lands_on_the_data_with_a_perfect_denoiser(sampler, steps):
    s = d.make_schedule("cosine")
    x0 = torch.tensor([[0.5, -0.25]], dtype=torch.float64)  # float64: at t = 999 x0_hat divides by ~1e-4
    start = torch.randn(1, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    run = d.sample_steps(_oracle(s, x0), s, start, sampler, steps, generator=torch.Generator().manual_seed(1))
    kept = []
    while True:
        try:
            kept.append(next(run))
        except StopIteration as done:
            final = done.value
            break
    assert len(kept) == steps and kept[0].t == 999
    torch.testing.assert_close(final, x0, atol=2e-3, rtol=0)
    torch.testing.assert_close(kept[-1].x0, x0, atol=1e-4, rtol=0)  # the model's own x0 guess is exact


def test_ddim_with_eta_0_is_deterministic_and_ddpm_is_not():
    s = d.make_schedule("linear")
    start = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))

    def eps_model(x, t):  # any smooth model
        return 0.5 * x

    def run(sampler, seed):
        return d.final_sample(
            d.sample_steps(eps_model, s, start, sampler, 10, generator=torch.Generator().manual_seed(seed))
        )

    torch.testing.assert_close(run("ddim", 1), run("ddim", 2))
    assert not torch.allclose(run("ddpm", 1), run("ddpm", 2))
    torch.testing.assert_close(run("ddpm", 3), run("ddpm", 3))


@pytest.mark.parametrize(
    "sampler, steps, eta, message",
    [
        ("heun", 10, 0, "Unknown sampler"),
        ("ddim", 0, 0, "whole number of steps"),
        ("ddim", 1001, 0, "whole number of steps"),
        ("ddim", 2.5, 0, "whole number of steps"),
        ("ddim", float("nan"), 0, "whole number of steps"),
        ("ddim", 10, -0.1, "eta"),
        ("ddim", 10, float("inf"), "eta"),
        ("ddim", "ten", 0, "numbers"),
    ],
)
def test_bad_sampler_settings_are_refused_with_a_reason(sampler, steps, eta, message):
    with pytest.raises(ValueError, match=message):
        d.check_sampler(sampler, steps, eta)


@pytest.mark.parametrize("name", d.SCHEDULES)
@pytest.mark.parametrize("steps", [1, 2, 10, 50, 1000])
def test_karras_grid_starts_at_noise_and_strictly_decreases(name, steps):
    grid = d.karras_timesteps(d.make_schedule(name), steps)
    assert len(grid) == steps and grid[0] == 999
    assert all(a > b for a, b in itertools.pairwise(grid))
    if steps >= 10:
        assert grid[-1] == 0  # it ends at the lowest noise level
        assert sum(t < 500 for t in grid) >= steps // 3  # crowded towards low noise


def test_euler_on_the_same_steps_is_ddim_with_eta_0():
    """Karras et al.: DDIM's update is Euler's method on the probability-flow ODE in sigma."""
    s = d.make_schedule("linear")
    x, eps = _sample_and_model_output()
    for t, t_prev in ((999, 899), (500, 480), (20, -1)):
        torch.testing.assert_close(
            d.euler_step(s, eps, t, t_prev, x, clip=None).x_prev, d.ddim_step(s, eps, t, t_prev, x, clip=None).x_prev
        )
