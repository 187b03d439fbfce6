"""Trainer of the shipped image flows (core.denoisers' class-conditional UNet, velocity prediction).

    python -m scripts.train flow --dataset mnist               # the shipped recipe (needs `make data`)
    python -m scripts.train flow --dataset fashion --steps 20 --source subset --out-dir some/folder

Conditional flow matching with straight paths and independent pairs (Lipman et al. 2023; core.flow):
for a random image x_1, noise x_0 and time t ~ U[0, 1], the UNet sees x_t = (1 - t) x_0 + t x_1
and learns the velocity u_t = x_1 - x_0 (mean squared error). Same network, same data, same
batches and the same training loop as the DDPM (scripts/denoiser_training.py): only the
objective differs, so the tabs compare the two methods at equal cost.

The card scores 500 class-conditional samples (50 per class, Euler, 50 steps) with core.evaluator:
class accuracy and FD-classifier; and 500 unconditional samples: FD-classifier and class coverage.
(A smoke run on the subsets scores 20 + 20 samples with 4 steps: it checks the plumbing only.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core import flow
from core.denoisers import UNet
from core.flow_models import TIME_SCALE, velocity_field
from scripts.denoiser_training import train_and_score
from scripts.pipeline import Report, TrainConfig, TrainerSpec, TrainResult


def euler_sampler(unet: UNet, steps: int):
    """Noise and labels in, Euler-integrated samples out: how the card scores the model."""

    def draw(x0: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return flow.integrate(velocity_field(unet, labels), x0, "euler", steps)[-1].clamp(-1, 1)

    return draw


def velocity_regression(unet: UNet, x1: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The flow-matching objective for one batch: the UNet sees x_t on a straight path and predicts x_1 - x_0."""
    t = torch.rand(len(x1), generator=generator)
    x0 = torch.randn(x1.shape, generator=generator)
    t, x0 = t.to(x1.device), x0.to(x1.device)
    x_t = flow.interpolate(x0, x1, t)
    return F.mse_loss(unet(x_t, t * TIME_SCALE, class_labels=labels), flow.target_velocity(x0, x1))


def train(config: TrainConfig, report: Report) -> TrainResult:
    card = {
        "objective": "conditional flow matching, straight paths, independent coupling, x_0 noise, x_1 data",
        "time_scale": TIME_SCALE,
    }
    return train_and_score(config, report, velocity_regression, euler_sampler, "Euler", card)


SPEC = TrainerSpec(
    train=train,
    datasets=("mnist", "fashion"),
    defaults={name: {"steps": 4_000, "batch_size": 128, "lr": 1e-3} for name in ("mnist", "fashion")},
)
