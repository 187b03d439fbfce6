"""The shipped image DDPMs and what the diffusion tab asks of them: timelines of every step, and branches.

Every model is a registry entry ("ddpm-mnist", "ddpm-fashion") trained by scripts/train_ddpm.py:
core.denoisers.UNet predicting the noise, on core.diffusion's cosine schedule. A run keeps, for
every step, the sample entering it (x_t), the model's guess of the clean image (x0_hat) and its
guess of the noise (eps): the three lanes the tab shows and scrubs. A branch continues a kept run
from one of its steps with another sampler or step count.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from core import assets, diffusion, images, seeding
from core.denoisers import UNet, labels_for, read_unet

MAX_BATCH = 16


@dataclass
class ShippedDDPM:
    key: str
    dataset: str
    unet: UNet
    schedule: diffusion.Schedule
    card: dict

    @property
    def class_names(self) -> tuple[str, ...]:
        return images.info(self.dataset).class_names

    def eps_model(self, labels: torch.Tensor):
        """eps_theta(x, t) for a batch whose classes are `labels` (NULL_CLASS: unconditional)."""

        @torch.no_grad()
        def eps(x: torch.Tensor, t: int) -> torch.Tensor:
            return self.unet(x, t, class_labels=labels)

        return eps


def read_shipped_ddpm(key: str) -> ShippedDDPM:  # registry loader of "ddpm-mnist" / "ddpm-fashion"
    unet, card = read_unet(assets.get(key).files[0].path())
    return ShippedDDPM(key, card["config"]["dataset"], unet, diffusion.make_schedule(card["schedule"]), card)


def shipped(dataset: str) -> ShippedDDPM:
    """The shipped DDPM for 'mnist' or 'fashion' (loaded once, shared read-only)."""
    images.info(dataset)  # ValueError for an unknown data set
    return assets.load_embedded(f"ddpm-{dataset}")


@dataclass
class Timeline:
    """One sampling run, every step kept (CPU tensors, batch first)."""

    dataset: str
    sampler: str
    steps: int
    eta: float
    seed: int
    labels: torch.Tensor  # (B,)
    kept: list[diffusion.Kept] = field(default_factory=list)
    final: torch.Tensor | None = None  # (B, 1, 28, 28) once finished
    branched_from: tuple[int, int] | None = None  # (step index, timestep) of the run it continues
    seconds: float = 0.0

    @property
    def done(self) -> bool:
        return self.final is not None

    def describe(self) -> str:
        name = diffusion.SAMPLERS[self.sampler].split(" (")[0]
        eta = f", eta {self.eta:g}" if self.sampler == "ddim" and self.eta else ""
        branch = (
            f", branched at step {self.branched_from[0] + 1} (t = {self.branched_from[1]})"
            if self.branched_from
            else ""
        )
        return f"{name}, {self.steps} steps{eta}, seed {self.seed}{branch}"


def check_batch(batch) -> int:
    try:
        value = float(batch)
    except (TypeError, ValueError):
        raise ValueError("The batch size must be a number.") from None
    if not (math.isfinite(value) and value.is_integer() and 1 <= value <= MAX_BATCH):
        raise ValueError(f"Choose a batch of 1 to {MAX_BATCH} images.")
    return int(value)


def run(
    model: ShippedDDPM,
    sampler: str = "ddim",
    steps: int = 50,
    eta: float = 0.0,
    seed: int = 0,
    classes: list[int] | None = None,
    batch: int = 16,
    branch_of: tuple[Timeline, int] | None = None,
) -> Iterator[Timeline]:
    """Sample, yielding the growing timeline after every step (the last yield is the finished run).

    `classes`: one class per image (-1 or None: any). `branch_of` = (timeline, k): start from the
    x_t that timeline kept at its step k (same images, same labels), at that step's timestep.
    """
    import time

    steps, eta = diffusion.check_sampler(sampler, steps, eta)
    seed = seeding.check_seed(seed)
    # the noise stochastic samplers add on the way (seed + 1: the start noise already used `seed`'s stream)
    generator = torch.Generator().manual_seed(seed + 1)
    if branch_of is not None:
        source, index = branch_of
        if not 0 <= index < len(source.kept):
            raise ValueError(f"Pick a kept step from 1 to {len(source.kept)}.")
        start, x, labels = source.kept[index].t, source.kept[index].x_t, source.labels
        if steps > start + 1:
            raise ValueError(f"From t = {start} there are at most {start + 1} steps left.")
        branched_from = (index, start)
    else:
        batch = check_batch(batch)
        labels = labels_for(classes, batch)
        start, branched_from = diffusion.T - 1, None
        x = seeding.initial_noise(seed, (batch, 1, 28, 28))
    timeline = Timeline(model.dataset, sampler, steps, eta, seed, labels, branched_from=branched_from)
    started = time.perf_counter()
    sampling = diffusion.sample_steps(model.eps_model(labels), model.schedule, x, sampler, steps, eta, generator, start)
    while True:
        try:
            timeline.kept.append(next(sampling))
        except StopIteration as finished:
            timeline.final = finished.value.clamp(-1, 1)
            timeline.seconds = time.perf_counter() - started
            yield timeline
            return
        timeline.seconds = time.perf_counter() - started
        yield timeline


@torch.no_grad()
def sample(model: ShippedDDPM, sampler: str, steps: int, eta: float, seed: int, labels: torch.Tensor) -> torch.Tensor:
    """Final samples only (no timeline kept: for scoring many images), one per label."""
    steps, eta = diffusion.check_sampler(sampler, steps, eta)
    x = seeding.initial_noise(seed, (len(labels), 1, 28, 28))
    generator = torch.Generator().manual_seed(seed + 1)
    run = diffusion.sample_steps(model.eps_model(labels), model.schedule, x, sampler, steps, eta, generator)
    return diffusion.final_sample(run).clamp(-1, 1)


QUALITY_TABLE = assets.ASSETS_DIR / "measurements" / "diffusion-quality.json"


def quality_table() -> dict | None:
    """The benchmark's quality-vs-steps measurements (`python -m bench diffusion` writes them), if present."""
    return json.loads(QUALITY_TABLE.read_text()) if QUALITY_TABLE.is_file() else None
