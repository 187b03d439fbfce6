"""The training loop the image DDPMs and the image flows share: one UNet, one recipe, two objectives.

Both trainers (scripts/train_ddpm.py, scripts/train_flow.py) train core.denoisers' class-conditional
UNet on a data set with the same batches, label dropout, optimiser, learning-rate schedule and
weight averaging; they differ only in what the network is asked to predict for a batch, which
each passes in as `objective`. Sharing the loop is what makes "DDPM vs flow at the same network
size and the same training budget" a fair comparison in the tabs.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch

from core import images
from core.denoisers import NULL_CLASS, DenoiserConfig, UNet, config_dict, drop_labels
from core.device import get_device
from core.evaluator import evaluate_samples
from scripts.pipeline import Report, TrainConfig, TrainResult

LABEL_DROPOUT = 0.1  # share of labels replaced by the null class (classifier-free guidance)
SCORED_PER_CLASS, SCORE_STEPS = 50, 50  # the cards' quality figures (a smoke run on the subsets: 2 and 4)
EMA_DECAY = 0.999  # the shipped weights are this moving average of the trained ones
WARMUP_STEPS = 200

# draw(noise, labels) -> samples: how a trainer samples its model for scoring
Sampler = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# objective(unet, data batch, labels, generator) -> loss; draws its own times and noise from `generator`
Objective = Callable[[UNet, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


def fit(config: TrainConfig, report: Report, objective: Objective) -> tuple[UNet, float, images.ImageSplit]:
    """Train a fresh UNet; return its weight average (eval mode), the smoothed final loss and the data.

    Adam with a short warm-up and a cosine decay to a tenth of the rate; the exponential moving
    average (decay 0.999, as in the DDPM paper) samples visibly cleaner than the last step's weights.
    """
    device = get_device()
    train_set = images.load(config.dataset, "train", config.source)
    unet = UNet(DenoiserConfig()).to(device)
    ema = copy.deepcopy(unet).eval().requires_grad_(False)
    optimizer = torch.optim.Adam(unet.parameters(), lr=config.lr)
    schedule_lr = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: (
            min(1.0, (s + 1) / WARMUP_STEPS) * (0.1 + 0.45 * (1 + math.cos(math.pi * min(s / config.steps, 1.0))))
        ),
    )
    generator = torch.Generator().manual_seed(config.seed)  # batches, label dropout, then the objective's draws
    running = None
    for step in range(1, config.steps + 1):
        pick = torch.randint(len(train_set), (config.batch_size,), generator=generator)
        x_data = train_set.images[pick].to(device)
        labels = drop_labels(train_set.labels[pick], LABEL_DROPOUT, generator).to(device)
        loss = objective(unet, x_data, labels, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule_lr.step()
        with torch.no_grad():
            for kept, live in zip(ema.parameters(), unet.parameters(), strict=True):
                kept.lerp_(live, 1 - EMA_DECAY)
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % config.eval_every == 0 or step == config.steps:
            report(step, loss=running)
        else:
            report(step)
    return ema, running, train_set


@torch.no_grad()
def score(draw: Sampler, dataset: str, seed: int, device: torch.device, per_class: int) -> dict[str, float]:
    """The cards' quality figures, by core.evaluator: class accuracy and FD-classifier of `per_class`
    samples of every class, and FD-classifier and class coverage of as many unconditional ones."""
    labels = torch.arange(10).repeat_interleave(per_class)
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for name, classes in (("conditional", labels), ("unconditional", torch.full_like(labels, NULL_CLASS))):
        samples = []
        for chunk in classes.split(250):
            noise = torch.randn(len(chunk), 1, 28, 28, generator=generator).to(device)
            samples.append(draw(noise, chunk.to(device)).cpu())
        quality = evaluate_samples(dataset, torch.cat(samples), labels if name == "conditional" else None)
        out[f"{name}_fd_classifier"] = quality.fd
        if name == "conditional":
            out["class_accuracy"] = quality.accuracy
        else:
            out["unconditional_class_coverage"] = quality.coverage
    out["fd_floor"] = quality.fd_floor
    return out


def train_and_score(
    config: TrainConfig,
    report: Report,
    objective: Objective,
    sampler_for: Callable[[UNet, int], Sampler],
    sampler_name: str,
    card: dict,
) -> TrainResult:
    """A trainer's whole run: fit with `objective`, score the weight average with `sampler_for(unet, steps)`,
    and the card (the network, the shared recipe, how it was scored, and the trainer's own `card` entries)."""
    ema, running, train_set = fit(config, report, objective)
    per_class, steps = (SCORED_PER_CLASS, SCORE_STEPS) if config.source == "full" else (2, 4)
    quality = score(sampler_for(ema, steps), config.dataset, config.seed, get_device(), per_class)
    data = f"{train_set.info.title}: {len(train_set):,} training images ({config.source} set)"
    card = {
        "model": {"architecture": "core.denoisers.UNet", **config_dict(ema.config)},
        "parameters": sum(p.numel() for p in ema.parameters()),
        **card,
        "label_dropout": LABEL_DROPOUT,
        "ema_decay": EMA_DECAY,
        "scored_with": f"{sampler_name}, {SCORE_STEPS} steps, {SCORED_PER_CLASS} samples per class + as many unconditional",
    }
    metrics = {"final_loss_smoothed": running, **quality}
    return TrainResult(dict(ema.state_dict()), metrics, data, fp16=False, card=card)
