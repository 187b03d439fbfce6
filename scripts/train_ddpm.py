"""Trainer of the shipped image DDPMs (core.denoisers' class-conditional UNet, epsilon prediction).

    python -m scripts.train ddpm --dataset mnist               # the shipped recipe (needs `make data`)
    python -m scripts.train ddpm --dataset fashion --steps 20 --source subset --out-dir some/folder

Ho et al. 2020's simple loss: for a random image x_0, timestep t ~ U{0..T-1} and noise eps, the
UNet sees x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps and learns to predict eps (mean
squared error). Cosine noise schedule (core.diffusion). The loop itself (batches, 10% label dropout
so the same network also samples unconditionally, Adam, the weight average that is shipped) is
scripts/denoiser_training.py, shared with the image flows.

The card scores 500 class-conditional samples (50 per class, DDIM, 50 steps) with core.evaluator:
class accuracy and FD-classifier; and 500 unconditional samples: FD-classifier and class coverage.
(A smoke run on the subsets scores 20 + 20 samples with 4 steps: it checks the plumbing only.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core import diffusion
from core.denoisers import UNet
from scripts.denoiser_training import train_and_score
from scripts.pipeline import Report, TrainConfig, TrainerSpec, TrainResult

SCHEDULE = "cosine"
_ALPHAS_CUMPROD = diffusion.make_schedule(SCHEDULE).alphas_cumprod.float()


def ddim_sampler(unet: UNet, steps: int):
    """Noise and labels in, DDIM samples out: how the card scores the model."""
    schedule = diffusion.make_schedule(SCHEDULE)

    def draw(x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        run = diffusion.sample_steps(lambda x, t: unet(x, t, class_labels=labels), schedule, x, "ddim", steps)
        return diffusion.final_sample(run)

    return draw


def noise_prediction(unet: UNet, x0: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The DDPM objective for one batch: the UNet sees x_t at a random timestep and predicts its noise."""
    abar = _ALPHAS_CUMPROD.to(x0.device)
    t = torch.randint(diffusion.T, (len(x0),), generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    t, noise = t.to(x0.device), noise.to(x0.device)
    a = abar[t].view(-1, 1, 1, 1)
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    return F.mse_loss(unet(x_t, t, class_labels=labels), noise)


def train(config: TrainConfig, report: Report) -> TrainResult:
    return train_and_score(config, report, noise_prediction, ddim_sampler, "DDIM", {"schedule": SCHEDULE})


SPEC = TrainerSpec(
    train=train,
    datasets=("mnist", "fashion"),
    defaults={name: {"steps": 4_000, "batch_size": 128, "lr": 1e-3} for name in ("mnist", "fashion")},
)
