"""The shipped image flows and what the flow tab asks of them: trajectories kept frame by frame, and DDIM races.

Every model is a registry entry ("flow-mnist", "flow-fashion") trained by scripts/train_flow.py:
core.denoisers.UNet (the DDPMs' network, same size, same training loop) predicting the velocity
v(x_t, t) of straight noise-to-data paths (core.flow's convention: t = 0 noise, t = 1 data). The
network's time input is t * TIME_SCALE, so that its sinusoidal time embedding sees the same range
as the DDPM's timesteps 0..999.

A run keeps, for every step, the sample at its start (x_t) and where the field points from there
if followed in a straight line to t = 1: x_t + (1 - t) v(x_t, t), the flow's guess of the finished
image (the counterpart of a diffusion model's predicted x0; it costs nothing, every solver
evaluates v(x_t, t) first).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from core import assets, flow, images, seeding
from core import diffusion_models as dm
from core.denoisers import UNet, labels_for, read_unet

TIME_SCALE = 1000.0
MAX_STEPS = 200


def velocity_field(unet: UNet, labels: torch.Tensor):
    """v(x, t) for a batch whose classes are `labels` (NULL_CLASS: unconditional), t in [0, 1]."""

    @torch.no_grad()
    def v(x: torch.Tensor, t: float) -> torch.Tensor:
        return unet(x, t * TIME_SCALE, class_labels=labels)

    return v


@dataclass
class ShippedFlow:
    key: str
    dataset: str
    unet: UNet
    card: dict

    @property
    def class_names(self) -> tuple[str, ...]:
        return images.info(self.dataset).class_names


def read_shipped_flow(key: str) -> ShippedFlow:  # registry loader of "flow-mnist" / "flow-fashion"
    unet, card = read_unet(assets.get(key).files[0].path())
    return ShippedFlow(key, card["config"]["dataset"], unet, card)


def shipped(dataset: str) -> ShippedFlow:
    """The shipped flow for 'mnist' or 'fashion' (loaded once, shared read-only)."""
    images.info(dataset)  # ValueError for an unknown data set
    return assets.load_embedded(f"flow-{dataset}")


@dataclass
class Frame:
    t: float
    x_t: torch.Tensor  # the sample at time t
    x1: torch.Tensor  # x_t + (1 - t) v(x_t, t): where a straight line along the field ends


@dataclass
class FlowRun:
    """One sampling run, every step kept (CPU tensors, batch first)."""

    dataset: str
    solver: str
    steps: int
    seed: int
    labels: torch.Tensor
    frames: list[Frame] = field(default_factory=list)
    final: torch.Tensor | None = None
    seconds: float = 0.0

    @property
    def done(self) -> bool:
        return self.final is not None

    @property
    def evaluations(self) -> int:
        return self.steps * flow.EVALUATIONS_PER_STEP[self.solver]

    def describe(self) -> str:
        name = flow.SOLVERS[self.solver].split(" (")[0]
        return f"{name}, {self.steps} steps ({self.evaluations} network evaluations), seed {self.seed}"


def check_steps(solver: str, steps) -> int:
    steps = flow.check_solver(solver, steps)
    if steps > MAX_STEPS:
        raise ValueError(f"Choose 1 to {MAX_STEPS} steps.")
    return steps


def run(
    model: ShippedFlow,
    solver: str = "euler",
    steps: int = 10,
    seed: int = 0,
    classes: list[int] | None = None,
    batch: int = 16,
) -> Iterator[FlowRun]:
    """Integrate from the seed's noise, yielding the growing run after every step (the last one is finished).

    `classes`: one class per image (-1 or None: any). The starting noise is seeding.initial_noise,
    the very tensor the diffusion tab starts from for the same seed and batch.
    """
    steps = check_steps(solver, steps)
    seed = seeding.check_seed(seed)
    batch = dm.check_batch(batch)
    labels = labels_for(classes, batch)
    field_ = velocity_field(model.unet, labels)
    x = seeding.initial_noise(seed, (batch, 1, 28, 28))
    flow_run = FlowRun(model.dataset, solver, steps, seed, labels)
    started, h = time.perf_counter(), 1.0 / steps
    # No `with torch.no_grad()` around the loop: a generator paused inside one would leave gradients
    # off in whichever server thread resumed it last (the field itself runs under no_grad).
    for i in range(steps):
        t = i * h
        x_next, v = flow.advance(field_, solver, x, t, h)
        flow_run.frames.append(Frame(t, x, x + (1 - t) * v))
        x = x_next
        flow_run.seconds = time.perf_counter() - started
        if i < steps - 1:
            yield flow_run
    flow_run.final = x.clamp(-1, 1)
    flow_run.seconds = time.perf_counter() - started
    yield flow_run


def finished(runner: Iterator[FlowRun]) -> FlowRun:
    """Drive a run to its end (the last thing a run yields is the finished run)."""
    *_, last = runner
    return last


@torch.no_grad()
def sample(model: ShippedFlow, solver: str, steps: int, seed: int, labels: torch.Tensor) -> torch.Tensor:
    """Final samples only (no frames kept: for scoring many images), one per label."""
    steps = check_steps(solver, steps)
    x = seeding.initial_noise(seed, (len(labels), 1, 28, 28))
    return flow.integrate(velocity_field(model.unet, labels), x, solver, steps)[-1].clamp(-1, 1)


@dataclass
class Race:
    """The same noise through the shipped flow (Euler) and the shipped DDPM (DDIM, eta 0), equal network evaluations."""

    flow: FlowRun
    ddim: dm.Timeline

    @property
    def same_start(self) -> bool:
        return torch.equal(self.flow.frames[0].x_t, self.ddim.kept[0].x_t)


def race_ddim(dataset: str, evaluations: int, seed: int, classes: list[int] | None, batch: int) -> Race:
    steps = check_steps("euler", evaluations)
    flow_run = finished(run(shipped(dataset), "euler", steps, seed, classes, batch))
    *_, timeline = dm.run(dm.shipped(dataset), "ddim", steps, 0.0, seed, classes, batch)
    return Race(flow_run, timeline)


QUALITY_TABLE = assets.ASSETS_DIR / "measurements" / "flow-quality.json"


def quality_table() -> dict | None:
    """The benchmark's quality-vs-evaluations measurements (`python -m bench flow` writes them), if present."""
    return json.loads(QUALITY_TABLE.read_text()) if QUALITY_TABLE.is_file() else None
