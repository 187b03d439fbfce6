"""Classifier-free guidance in 2-D: a class-conditional flow on the 8 Gaussians, where guidance can be seen.

Each of the 8 modes is a class. One small network v(x, t, c) is trained by flow matching
(straight paths from noise x0 to data x1, the flow tab's convention) with the class label
replaced by a "null" class for LABEL_DROPOUT of the points, so it knows both the conditional
velocity v(x, t, c) and the unconditional one v(x, t, null). Guidance combines them exactly as
Stable Diffusion combines its two noise predictions:

    v_guided = v_uncond + s * (v_cond - v_uncond)

The field pictures show all three at one time t, and samples drawn with v_guided show where
guidance sends the particles: at s = 0 anywhere (unconditional), at s = 1 the chosen mode with
its true spread, and for s > 1 every particle to the chosen mode, but no longer with the data's
spread (measured by `sample`): guidance buys adherence with faithfulness to the distribution.

The model trains once per process (seeded, a few seconds on one CPU thread) and is shared.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

import torch
from torch import nn

from core import toy2d
from core.device import single_cpu_thread

DATASET = "8gaussians"
N_CLASSES = 8
NULL = N_CLASSES  # the "no class" label
LABEL_DROPOUT = 0.2
ITERATIONS, BATCH, LR, SEED = 3_000, 256, 2e-3, 0
MAX_SCALE = 20.0
SAMPLE_STEPS = 40


class ConditionalVelocity(nn.Module):
    """v(x, t, c): the point, a Fourier embedding of t and a learned class embedding, through an MLP."""

    def __init__(self, width: int = 128):
        super().__init__()
        self.classes = nn.Embedding(N_CLASSES + 1, 32)
        self.net = nn.Sequential(
            nn.Linear(2 + 16 + 32, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
            nn.Linear(width, width), nn.SiLU(), nn.Linear(width, 2),
        )  # fmt: skip
        self.register_buffer("frequencies", 2 ** torch.arange(8, dtype=torch.float32) * math.pi)

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        angles = t[:, None] * self.frequencies  # (n, 8)
        features = torch.cat([x, angles.sin(), angles.cos(), self.classes(c)], dim=1)
        return self.net(features)


@dataclass
class Trained:
    model: ConditionalVelocity
    data: toy2d.Toy2D
    final_loss: float


_train_lock = threading.Lock()


@functools.cache
def _trained() -> Trained:
    generator = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    model = ConditionalVelocity()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    data = toy2d.sample(DATASET, 20_000, generator)
    labels = torch.cdist(data.points, data.modes).argmin(dim=1)  # modes are far apart: the nearest is its own
    running = None
    with single_cpu_thread(), torch.enable_grad():
        for _ in range(ITERATIONS):
            pick = torch.randint(len(data.points), (BATCH,), generator=generator)
            x1, c = data.points[pick], labels[pick].clone()
            c[torch.rand(BATCH, generator=generator) < LABEL_DROPOUT] = NULL
            x0 = torch.randn(BATCH, 2, generator=generator)
            t = torch.rand(BATCH, generator=generator)
            xt = (1 - t[:, None]) * x0 + t[:, None] * x1
            loss = (model(xt, t, c) - (x1 - x0)).pow(2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
    model.eval().requires_grad_(False)
    return Trained(model, data, running)


def trained() -> Trained:
    with _train_lock:  # the first users to ask wait for one training, not one each
        return _trained()


def check(target, scale, t=0.5) -> tuple[int, float, float]:
    try:
        target, scale, t = int(target), float(scale), float(t)
    except (TypeError, ValueError):
        raise ValueError("The class, scale and time must be numbers.") from None
    if not 0 <= target < N_CLASSES:
        raise ValueError(f"The class must be one of the {N_CLASSES} modes, 0 to {N_CLASSES - 1}.")
    if not (math.isfinite(scale) and 0 <= scale <= MAX_SCALE):
        raise ValueError(f"The guidance scale must be between 0 and {MAX_SCALE:g}.")
    if not (math.isfinite(t) and 0 <= t <= 1):
        raise ValueError("The time must be between 0 (noise) and 1 (data).")
    return target, scale, t


@dataclass
class Fields:
    points: torch.Tensor  # (m, 2) where the arrows start
    uncond: torch.Tensor  # (m, 2) each
    cond: torch.Tensor
    guided: torch.Tensor


def velocities(model, x: torch.Tensor, t: float, target: int, scale: float) -> tuple[torch.Tensor, ...]:
    """v_uncond, v_cond and v_guided at points x and time t (one batched call for both predictions)."""
    n = len(x)
    both = model(
        torch.cat([x, x]), torch.full((2 * n,), t), torch.cat([torch.full((n,), NULL), torch.full((n,), target)])
    )
    uncond, cond = both[:n], both[n:]
    return uncond, cond, uncond + scale * (cond - uncond)


def fields(target, scale, t, steps: int = 15) -> Fields:
    target, scale, t = check(target, scale, t)
    model = trained().model
    points = toy2d.grid(steps=steps) * 0.9
    with torch.no_grad():
        return Fields(points, *velocities(model, points, t, target, scale))


@dataclass
class Samples:
    path: list[torch.Tensor]  # positions at each Euler step, from noise (t = 0) to t = 1
    on_target: float  # share of the end points within 3 sigma of the chosen mode
    near_any_mode: float  # share within 3 sigma of any mode
    spread: float  # std of the end points on target around their mode, in units of the mode's own std


def sample(target, scale, n: int = 400, seed: int = 0, steps: int = SAMPLE_STEPS) -> Samples:
    """n particles from noise to t = 1 along v_guided (Euler)."""
    target, scale, _ = check(target, scale)
    run = trained()
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    path = [x]
    with torch.no_grad():
        for i in range(steps):
            x = x + velocities(run.model, x, i / steps, target, scale)[2] / steps
            path.append(x)
    modes, std = run.data.modes, run.data.mode_std
    distance = torch.cdist(x, modes)
    hit = distance[:, target] < 3 * std
    spread = float((x[hit] - modes[target]).pow(2).sum(1).mean().div(2).sqrt() / std) if hit.any() else float("nan")
    return Samples(path, float(hit.float().mean()), float((distance.min(1).values < 3 * std).float().mean()), spread)
