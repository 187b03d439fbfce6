"""A DDPM on 2-D points, small enough to train live in a few seconds: particles denoising, and the learned noise field.

The denoiser is an MLP eps_theta(x, t): the point and a sinusoidal embedding of t in, the
predicted noise out. Training and sampling are core.diffusion's (same schedules, same samplers),
so this is the image model's process, shrunk to where every particle and every arrow can be
drawn. Points live in the shared toy world (core.toy2d, about [-4, 4]^2); the model sees them
divided by DATA_SCALE, so data and noise have comparable spread.

What the tab draws at a chosen t:
- particles: a batch of samples on their way from noise (t = T-1) to data, with their trails;
- the noise field: eps_theta(x, t) on a grid, drawn as arrows pointing *against* the predicted
  noise, i.e. along the score, grad log p_t(x) = -eps_theta(x, t) / sqrt(1 - alpha-bar_t),
  which points towards where the data is, as seen through noise level t.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from core import diffusion, metrics, toy2d

DATA_SCALE = 2.0  # model space = plot space / DATA_SCALE
TIME_FEATURES = 16
MAX_ITERATIONS = 20_000
FIELD_STEPS = 21  # arrows per axis
# x0_hat is clipped to the data's box (model space), as image samplers clip to [-1, 1]: near t = T-1 it divides
# by sqrt(alpha-bar) ~ 5e-5 (cosine schedule), and an unclipped guess throws deterministic samplers off
CLIP = 1.25 * toy2d.HALF_WIDTH / DATA_SCALE


class TimeMLP(nn.Module):
    """(x, t) -> a 2-D vector: the diffusion model's noise guess, or the flow's velocity (core.flow2d).

    t enters as sines and cosines of t / time_scale (so in [0, 1]) at several frequencies.
    """

    def __init__(self, hidden: int = 128, depth: int = 3, time_scale: float = diffusion.T):
        super().__init__()
        layers: list[nn.Module] = []
        width = 2 + TIME_FEATURES
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)
        self.register_buffer("frequencies", torch.exp(torch.linspace(0, math.log(200), TIME_FEATURES // 2)))
        self.time_scale = time_scale

    def forward(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=x.dtype).reshape(-1, 1).expand(len(x), 1) / self.time_scale
        angles = t * self.frequencies
        return self.net(torch.cat([x, angles.sin(), angles.cos()], dim=1))


def seeded_init(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """PyTorch's default weight initialisation (zero biases), drawn from `generator` (never global state)."""
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                nn.init.zeros_(layer.bias)
    return model


def train_iterations(model, iterations: int, stop: threading.Event | None, every: int) -> Iterator[dict]:
    """The live 2-D models' training loop (this module's and core.flow2d's): `model.train_step()` until
    `iterations` more are done or `stop` is set, a smoothed loss appended to `model.history` every `every`."""
    if not (float(iterations).is_integer() and 1 <= iterations <= MAX_ITERATIONS):
        raise ValueError(f"Choose a whole number of iterations between 1 and {MAX_ITERATIONS:,}.")
    started, running = time.perf_counter(), None
    for i in range(int(iterations)):
        if stop is not None and stop.is_set():
            break
        loss = model.train_step()
        running = loss if running is None else 0.95 * running + 0.05 * loss
        if (i + 1) % every == 0 or i + 1 == iterations:
            entry = {"iteration": model.iteration, "loss": running, "seconds": time.perf_counter() - started}
            model.history.append(entry)
            yield entry


@dataclass
class Diffusion2DConfig:
    dataset: str = "8gaussians"
    schedule: str = "cosine"
    hidden: int = 128
    depth: int = 3
    batch_size: int = 256
    lr: float = 3e-3
    seed: int = 0

    def check(self) -> Diffusion2DConfig:
        if self.dataset not in toy2d.DISTRIBUTIONS:
            raise ValueError(f"Unknown data set {self.dataset!r}; choose from {', '.join(toy2d.DISTRIBUTIONS)}.")
        if self.schedule not in diffusion.SCHEDULES:
            raise ValueError(f"Unknown schedule {self.schedule!r}; choose {' or '.join(diffusion.SCHEDULES)}.")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 0.1):
            raise ValueError("The learning rate must be a number in (0, 0.1].")
        return self


@dataclass
class Diffusion2D:
    config: Diffusion2DConfig = field(default_factory=Diffusion2DConfig)
    drawing: object = None  # the sketch, for dataset "drawn"
    iteration: int = field(init=False, default=0)
    history: list[dict[str, float]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        c = self.config.check()
        self.schedule = diffusion.make_schedule(c.schedule)
        self._abar = self.schedule.alphas_cumprod.float()
        data = toy2d.sample(c.dataset, 4_000, torch.Generator().manual_seed(c.seed), drawing=self.drawing)
        self.data = data
        self.points = data.points / DATA_SCALE
        init = torch.Generator().manual_seed(c.seed + 1)
        self.model = TimeMLP(c.hidden, c.depth)
        seeded_init(self.model, init)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=c.lr)
        self.rng = torch.Generator().manual_seed(c.seed + 2)

    def train_step(self) -> float:
        """One step of the simple DDPM loss: predict the noise mixed into data at a random t."""
        c = self.config
        x0 = self.points[torch.randint(len(self.points), (c.batch_size,), generator=self.rng)]
        t = torch.randint(diffusion.T, (c.batch_size,), generator=self.rng)
        noise = torch.randn(x0.shape, generator=self.rng)
        a = self._abar[t].unsqueeze(1)
        loss = ((self.model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t) - noise) ** 2).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.iteration += 1
        return loss.item()

    def train(self, iterations: int, stop: threading.Event | None = None, every: int = 100) -> Iterator[dict]:
        """Train `iterations` more steps, yielding {iteration, loss (smoothed), seconds} every `every` steps."""
        return train_iterations(self, iterations, stop, every)

    # --- sampling and what the pictures need (plot space in, plot space out) ---

    @torch.no_grad()
    def eps(self, x: torch.Tensor, t: int) -> torch.Tensor:
        return self.model(x, t)

    def sample(
        self, n: int = 500, sampler: str = "ddpm", steps: int = 100, seed: int = 0, eta: float = 0.0
    ) -> tuple[list[diffusion.Kept], torch.Tensor]:
        """Every kept step of a run for n particles (in plot space), and where they end."""
        generator = torch.Generator().manual_seed(seed)
        start = torch.randn(n, 2, generator=generator)
        run = diffusion.sample_steps(self.eps, self.schedule, start, sampler, steps, eta, generator, clip=CLIP)
        kept = []
        while True:
            try:
                step = next(run)
            except StopIteration as done:
                final = done.value
                break
            kept.append(diffusion.Kept(step.t, step.x_t * DATA_SCALE, step.x0 * DATA_SCALE, step.eps))
        return kept, final * DATA_SCALE

    @torch.no_grad()
    def score_field(self, t: int, steps: int = FIELD_STEPS) -> tuple[torch.Tensor, torch.Tensor]:
        """Grid points (plot space) and the score direction there, -eps / sqrt(1 - alpha-bar_t), in plot units."""
        points = toy2d.grid(steps=steps)
        eps = self.model(points / DATA_SCALE, t)
        score = -eps / (1 - self.schedule.alpha_bar(t)) ** 0.5
        return points, score / DATA_SCALE  # d log p / dx in plot space

    def quality(self, samples: torch.Tensor) -> metrics.Metrics2D:
        return metrics.metrics_2d(
            samples, toy2d.Toy2D(self.data.points[:1_000], self.data.modes, self.data.mode_std, self.data.name)
        )
