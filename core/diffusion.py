"""Diffusion models, written for reading: noise schedules, the forward process, and four reverse-process samplers.

Notation (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", https://arxiv.org/abs/2006.11239):
training steps t = 0 .. T-1 (T = 1000), beta_t the noise added at step t, alpha_t = 1 - beta_t,
alpha-bar_t = alpha_0 ... alpha_t. The forward process jumps straight to any t (eq. 4):

    x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps,    eps ~ N(0, I)

A network eps_theta(x_t, t) learns to predict eps; everything a sampler needs follows from it,
first of all the predicted clean sample (eq. 15 rearranged):

    x0_hat = (x_t - sqrt(1 - alpha-bar_t) eps_theta) / sqrt(alpha-bar_t)

Every sampler walks down a grid of timesteps t_0 > t_1 > ... > t_{N-1} and ends at "t = -1",
where alpha-bar is 1 (no noise). Each step reads the model's eps at (x, t) and returns the
sample at the next timestep plus the x0_hat and eps it used, so a caller can keep all three.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import torch

T = 1000
SCHEDULES = ("linear", "cosine")
SAMPLERS = {
    "ddpm": "DDPM (ancestral: fresh noise every step)",
    "ddim": "DDIM (eta = 0: deterministic)",
    "euler": "Euler (the probability-flow ODE, Karras sigma steps)",
    "dpm++2m": "DPM-Solver++ 2M (second-order multistep)",
}
MAX_STEPS = T


# --- 1. Noise schedules ---


@dataclass(frozen=True)
class Schedule:
    name: str
    betas: torch.Tensor  # (T,) float64
    alphas_cumprod: torch.Tensor  # (T,) alpha-bar_t, float64

    def alpha_bar(self, t: int) -> float:
        """alpha-bar at timestep t; 1.0 at t = -1 (the clean end of every sampler)."""
        return 1.0 if t < 0 else float(self.alphas_cumprod[t])

    @property
    def log_snr(self) -> torch.Tensor:
        """log(alpha-bar / (1 - alpha-bar)): signal-to-noise ratio in nats, falling with t."""
        return torch.log(self.alphas_cumprod) - torch.log1p(-self.alphas_cumprod)


def make_schedule(name: str = "linear", steps: int = T) -> Schedule:
    """The two classic schedules.

    - "linear": beta rises linearly from 1e-4 to 0.02 (Ho et al. 2020, section 4);
    - "cosine": alpha-bar(s) = cos^2(((s + 0.008) / 1.008) pi/2) for s = t/T, with each beta
      capped at 0.999 (Nichol & Dhariwal 2021, eq. 17, https://arxiv.org/abs/2102.09672). It
      destroys information more evenly over t than the linear schedule.
    """
    if name == "linear":
        betas = torch.linspace(1e-4, 0.02, steps, dtype=torch.float64)
    elif name == "cosine":

        def alpha_bar(s: float) -> float:
            return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2

        betas = torch.tensor(
            [min(1 - alpha_bar((i + 1) / steps) / alpha_bar(i / steps), 0.999) for i in range(steps)],
            dtype=torch.float64,
        )
    else:
        raise ValueError(f"Unknown schedule {name!r}; choose {' or '.join(SCHEDULES)}.")
    return Schedule(name, betas, torch.cumprod(1 - betas, dim=0))


# --- 2. The forward process ---


def q_sample(schedule: Schedule, x0: torch.Tensor, t: torch.Tensor | int, noise: torch.Tensor) -> torch.Tensor:
    """x_t given x_0 (eq. 4): sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps; t per sample or one int."""
    abar = schedule.alphas_cumprod.to(x0.device)[torch.as_tensor(t, device=x0.device)].to(x0.dtype)
    abar = abar.reshape(-1, *([1] * (x0.dim() - 1))) if abar.dim() else abar
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise


def predict_x0(x: torch.Tensor, eps: torch.Tensor, alpha_bar: float) -> torch.Tensor:
    """x0_hat = (x_t - sqrt(1 - alpha-bar_t) eps) / sqrt(alpha-bar_t)  (eq. 15 rearranged)."""
    return (x - (1 - alpha_bar) ** 0.5 * eps) / alpha_bar**0.5


# --- 3. Where the steps go ---


def timesteps(steps: int, start: int = T - 1) -> list[int]:
    """`steps` timesteps from `start` down, evenly spaced, the last one step above the clean end.

    "Trailing" spacing (Lin et al. 2024, table 2, https://arxiv.org/abs/2305.08891): the first
    step starts at pure noise (t = T-1), which the older "leading" spacing never does. `start` below
    T-1 continues a run from a kept step (a branch).
    """
    if not 1 <= steps <= start + 1:
        raise ValueError(f"Choose between 1 and {start + 1} steps from t = {start}.")
    span = start + 1
    return [round(span - i * span / steps) - 1 for i in range(steps)]


KARRAS_SIGMA_MAX = 80.0  # Karras et al.'s sigma_max: beyond it x_t is noise for every practical purpose


def karras_timesteps(schedule: Schedule, steps: int, start: int = T - 1, rho: float = 7.0) -> list[int]:
    """`steps` timesteps whose noise levels sigma follow Karras et al. 2022 (eq. 5, rho = 7).

    The first step starts at `start`; the others have sigma^(1/rho) evenly spaced from
    min(sigma(start), 80) down to sigma(0), so steps crowd at low noise, where detail forms (the
    cosine schedule's sigma at t = 999 is ~20,000: spacing from there would waste every step near
    pure noise). Each sigma maps to the timestep with the nearest log sigma, kept strictly
    decreasing (with many steps the grid becomes every timestep).
    """
    timesteps(steps, start)  # the same bounds check
    abar = schedule.alphas_cumprod[: start + 1]
    log_sigmas = ((1 - abar) / abar).sqrt().log()
    high = min(log_sigmas[start].exp().item(), KARRAS_SIGMA_MAX) ** (1 / rho)
    low = log_sigmas[0].exp().item() ** (1 / rho)
    grid = [start]
    for i in range(1, steps):
        target = math.log((high + ((i - 1) / max(steps - 2, 1)) * (low - high)) ** rho)
        t = int((log_sigmas - target).abs().argmin())
        grid.append(max(min(t, grid[-1] - 1), steps - 1 - i))  # strictly decreasing, room left for the rest
    return grid


# --- 4. One reverse step of each sampler ---


@dataclass
class Step:
    x_prev: torch.Tensor  # the sample at the next (lower) timestep
    x0: torch.Tensor  # the predicted clean sample this step used
    eps: torch.Tensor  # the predicted noise this step used


def _clip(x0: torch.Tensor, clip: float | None) -> torch.Tensor:
    return x0 if clip is None else x0.clamp(-clip, clip)


def ddpm_step(
    schedule: Schedule,
    eps: torch.Tensor,
    t: int,
    t_prev: int,
    x: torch.Tensor,
    generator: torch.Generator | None = None,
    clip: float | None = 1.0,
) -> Step:
    """Ancestral sampling: draw x_{t_prev} from the posterior q(x_{t_prev} | x_t, x0_hat) (Ho et al. eqs. 6-7).

    With t_prev below t - 1 the step uses the "effective" beta of the jump, 1 - alpha-bar_t /
    alpha-bar_{t_prev}, as for a schedule restricted to the chosen timesteps (Nichol & Dhariwal, 4).
    """
    abar_t, abar_prev = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
    beta = 1 - abar_t / abar_prev  # (1) the jump's effective beta_t
    x0 = _clip(predict_x0(x, eps, abar_t), clip)  # (2) the predicted clean sample
    # (3) the posterior mean, eq. 7: a blend of x0_hat and x_t
    mean = (abar_prev**0.5 * beta / (1 - abar_t)) * x0 + ((1 - beta) ** 0.5 * (1 - abar_prev) / (1 - abar_t)) * x
    if t <= 0:  # (4) the last step adds no noise
        return Step(mean, x0, eps)
    variance = max((1 - abar_prev) / (1 - abar_t) * beta, 1e-20)  # (4) posterior variance, beta-tilde
    noise = torch.randn(eps.shape, generator=generator, dtype=eps.dtype, device=eps.device)
    return Step(mean + variance**0.5 * noise, x0, eps)


def ddim_step(
    schedule: Schedule,
    eps: torch.Tensor,
    t: int,
    t_prev: int,
    x: torch.Tensor,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    clip: float | None = 1.0,
) -> Step:
    """DDIM (Song et al. 2021, eq. 12, https://arxiv.org/abs/2010.02502): x0_hat, pointed back to t_prev.

    x_{t_prev} = sqrt(alpha-bar_prev) x0_hat + sqrt(1 - alpha-bar_prev - sigma^2) eps + sigma z,
    sigma = eta sqrt((1 - alpha-bar_prev) / (1 - alpha-bar_t)) sqrt(1 - alpha-bar_t / alpha-bar_prev).
    eta = 0 is deterministic; eta = 1 has DDPM's variance.
    """
    if not 0.0 <= eta <= 1.0:
        raise ValueError("eta must be between 0 (deterministic DDIM) and 1 (DDPM-like noise).")
    abar_t, abar_prev = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
    x0 = _clip(predict_x0(x, eps, abar_t), clip)  # (1) the predicted clean sample
    sigma = eta * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)) ** 0.5  # (2) the step's noise level
    direction = max(1 - abar_prev - sigma**2, 0.0) ** 0.5 * eps  # (3) "direction pointing to x_t"
    x_prev = abar_prev**0.5 * x0 + direction  # (4) eq. 12 without its noise term
    if eta > 0:
        x_prev = x_prev + sigma * torch.randn(eps.shape, generator=generator, dtype=eps.dtype, device=eps.device)
    return Step(x_prev, x0, eps)


def sigma_of(alpha_bar: float) -> float:
    """The noise level of the "variance-exploding" view, x_t / sqrt(alpha-bar_t) = x_0 + sigma eps."""
    return ((1 - alpha_bar) / alpha_bar) ** 0.5


def euler_step(
    schedule: Schedule, eps: torch.Tensor, t: int, t_prev: int, x: torch.Tensor, clip: float | None = 1.0
) -> Step:
    """One Euler step of the probability-flow ODE in sigma (Karras et al. 2022, algorithm 1 without churn).

    In the scaled variable y = x / sqrt(alpha-bar) = x_0 + sigma eps the ODE is dy/dsigma = d with
    d = (y - x0_hat) / sigma: y_prev = y + (sigma_prev - sigma) d, then x_{t_prev} = sqrt(alpha-bar_prev) y_prev.
    On the same timesteps this is DDIM with eta = 0, step for step (Karras et al. section 4 point
    it out); `sample_steps` runs it on the Karras sigma grid, so what differs is where the steps go.
    """
    abar_t, abar_prev = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
    x0 = _clip(predict_x0(x, eps, abar_t), clip)  # (1) the denoised guess
    y = x / abar_t**0.5  # (2) into the scaled variable
    slope = (y - x0) / sigma_of(abar_t)  # (3) dy/dsigma
    y_prev = y + (sigma_of(abar_prev) - sigma_of(abar_t)) * slope  # (4) the Euler step
    return Step(abar_prev**0.5 * y_prev, x0, eps)  # (5) back to x


@dataclass
class DPMSolverPP2M:
    """DPM-Solver++ 2M (Lu et al. 2022, algorithm 2, https://arxiv.org/abs/2211.01095), data prediction.

    Works in lambda = log(alpha / sigma) (half the log-SNR), alpha = sqrt(alpha-bar), sigma = sqrt(1 - alpha-bar):
        x_prev = (sigma_prev / sigma) x - alpha_prev (e^{-h} - 1) D,    h = lambda_prev - lambda
    D is x0_hat for the first step; afterwards the second-order blend of this and the previous
    step's x0_hat, D = (1 + 1/(2r)) x0_hat - 1/(2r) x0_hat_before, r = h_before / h. The final
    step into t = -1 (sigma = 0) is the plain x0_hat, as first-order solvers end.
    """

    clip: float | None = 1.0
    _previous: tuple[torch.Tensor, float] | None = field(default=None, repr=False)  # (x0_hat, h) of the last step

    def step(self, schedule: Schedule, eps: torch.Tensor, t: int, t_prev: int, x: torch.Tensor) -> Step:
        abar_t, abar_prev = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
        x0 = _clip(predict_x0(x, eps, abar_t), self.clip)
        if t_prev < 0:  # (0) sigma_prev = 0: the solution is x0_hat itself
            self._previous = None
            return Step(x0, x0, eps)
        alpha, sigma = abar_t**0.5, (1 - abar_t) ** 0.5
        alpha_prev, sigma_prev = abar_prev**0.5, (1 - abar_prev) ** 0.5
        h = math.log(alpha_prev / sigma_prev) - math.log(alpha / sigma)  # (1) the step in lambda
        if self._previous is None:
            data = x0  # (2a) first order: DPM-Solver++ 1 (= DDIM)
        else:
            x0_before, h_before = self._previous
            r = h_before / h
            data = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * x0_before  # (2b) second-order multistep
        self._previous = (x0, h)
        x_prev = (sigma_prev / sigma) * x - alpha_prev * math.expm1(-h) * data  # (3) the exponential-integrator update
        return Step(x_prev, x0, eps)


# --- 5. A whole run, every step kept ---


@dataclass
class Kept:
    """One step of a run as the timeline keeps it: the sample entering step t, and what the model made of it."""

    t: int
    x_t: torch.Tensor
    x0: torch.Tensor
    eps: torch.Tensor


Sampler = Literal["ddpm", "ddim", "euler", "dpm++2m"]


def check_sampler(sampler: str, steps, eta) -> tuple[int, float]:
    """Validated (steps, eta) for a run, or ValueError with a message a user can act on."""
    if sampler not in SAMPLERS:
        raise ValueError(f"Unknown sampler {sampler!r}; choose from {', '.join(SAMPLERS)}.")
    try:
        steps_f, eta_f = float(steps), float(eta)
    except (TypeError, ValueError):
        raise ValueError("Steps and eta must be numbers.") from None
    if not math.isfinite(steps_f) or not steps_f.is_integer() or not 1 <= steps_f <= MAX_STEPS:
        raise ValueError(f"Choose a whole number of steps from 1 to {MAX_STEPS}.")
    if not (math.isfinite(eta_f) and 0.0 <= eta_f <= 1.0):
        raise ValueError("eta must be between 0 (deterministic DDIM) and 1 (DDPM-like noise).")
    return int(steps_f), eta_f


@torch.no_grad()
def sample_steps(
    eps_model,
    schedule: Schedule,
    x: torch.Tensor,
    sampler: str = "ddim",
    steps: int = 50,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    start: int = T - 1,
    clip: float | None = 1.0,
):
    """Run a sampler from x (the sample at timestep `start`), yielding a Kept record per step; returns x_0.

    `eps_model(x, t)` returns the predicted noise for a batch at integer timestep t. A run from a
    kept step k of another run (a branch) passes that step's x_t and t as `x` and `start`.
    """
    steps, eta = check_sampler(sampler, steps, eta)
    grid = karras_timesteps(schedule, steps, start) if sampler == "euler" else timesteps(steps, start)
    solver = DPMSolverPP2M(clip=clip)
    for i, t in enumerate(grid):
        t_prev = grid[i + 1] if i + 1 < len(grid) else -1
        eps = eps_model(x, t)
        if sampler == "ddpm":
            step = ddpm_step(schedule, eps, t, t_prev, x, generator, clip)
        elif sampler == "ddim":
            step = ddim_step(schedule, eps, t, t_prev, x, eta, generator, clip)
        elif sampler == "euler":
            step = euler_step(schedule, eps, t, t_prev, x, clip)
        else:
            step = solver.step(schedule, eps, t, t_prev, x)
        yield Kept(t, x, step.x0, step.eps)
        x = step.x_prev
    return x


def final_sample(run) -> torch.Tensor:
    """Drain a `sample_steps` run (when its steps are not needed) and return its final sample."""
    while True:
        try:
            next(run)
        except StopIteration as done:
            return done.value
