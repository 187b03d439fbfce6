"""Trainer of the shipped image DDPMs (core.denoisers' class-conditional UNet, epsilon prediction).

    python -m scripts.train ddpm --dataset mnist               # the shipped recipe (needs `make data`)
    python -m scripts.train ddpm --dataset fashion --steps 20 --source subset --out-dir some/folder

Ho et al. 2020's simple loss: for a random image x_0, timestep t ~ U{0..T-1} and noise eps, the
UNet sees x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps and learns to predict eps (mean
squared error). Cosine noise schedule (core.diffusion). 10% of labels are replaced by the null
class, so the same network also samples unconditionally. Adam with a short warm-up and a cosine
decay; the shipped weights are an exponential moving average of the trained ones (decay 0.999),
as in the DDPM paper, which samples visibly cleaner than the last step's weights.

The card scores 500 class-conditional samples (50 per class, DDIM, 50 steps) with core.evaluator:
class accuracy and FD-classifier; and 500 unconditional samples: FD-classifier and class coverage.
(A smoke run on the subsets scores 20 + 20 samples with 4 steps: it checks the plumbing only.)
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from core import diffusion, images
from core.denoisers import NULL_CLASS, DenoiserConfig, UNet, config_dict, drop_labels
from core.device import get_device
from core.evaluator import evaluate_samples
from scripts.pipeline import Report, TrainConfig, TrainerSpec, TrainResult

SCHEDULE = "cosine"
LABEL_DROPOUT = 0.1
EMA_DECAY = 0.999
WARMUP_STEPS = 200
SCORED_PER_CLASS = 50
SCORE_STEPS = 50


@torch.no_grad()
def score(unet: UNet, dataset: str, seed: int, device: torch.device, per_class: int, steps: int) -> dict[str, float]:
    """Class accuracy and FD of conditional samples, FD and coverage of unconditional ones (DDIM)."""
    schedule = diffusion.make_schedule(SCHEDULE)
    unet.eval()
    labels = torch.arange(10).repeat_interleave(per_class)
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for name, classes in (("conditional", labels), ("unconditional", torch.full_like(labels, NULL_CLASS))):
        samples = []
        for chunk in classes.split(250):
            x = torch.randn(len(chunk), 1, 28, 28, generator=generator).to(device)
            c = chunk.to(device)
            run = diffusion.sample_steps(lambda x, t, c=c: unet(x, t, class_labels=c), schedule, x, "ddim", steps)
            samples.append(diffusion.final_sample(run).cpu())
        quality = evaluate_samples(dataset, torch.cat(samples), labels if name == "conditional" else None)
        out[f"{name}_fd_classifier"] = quality.fd
        if name == "conditional":
            out["class_accuracy"] = quality.accuracy
        else:
            out["unconditional_class_coverage"] = quality.coverage
    out["fd_floor"] = quality.fd_floor
    return out


def train(config: TrainConfig, report: Report) -> TrainResult:
    device = get_device()
    train_set = images.load(config.dataset, "train", config.source)
    schedule = diffusion.make_schedule(SCHEDULE)
    abar = schedule.alphas_cumprod.float().to(device)
    model_config = DenoiserConfig()
    unet = UNet(model_config).to(device)
    ema = copy.deepcopy(unet).eval().requires_grad_(False)
    optimizer = torch.optim.Adam(unet.parameters(), lr=config.lr)
    schedule_lr = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: (
            min(1.0, (s + 1) / WARMUP_STEPS) * (0.1 + 0.45 * (1 + math.cos(math.pi * min(s / config.steps, 1.0))))
        ),
    )
    generator = torch.Generator().manual_seed(config.seed)  # batches, timesteps, noise, label dropout
    running = None
    for step in range(1, config.steps + 1):
        pick = torch.randint(len(train_set), (config.batch_size,), generator=generator)
        x0 = train_set.images[pick]
        labels = drop_labels(train_set.labels[pick], LABEL_DROPOUT, generator)
        t = torch.randint(diffusion.T, (config.batch_size,), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        x0, labels, t, noise = x0.to(device), labels.to(device), t.to(device), noise.to(device)
        a = abar[t].view(-1, 1, 1, 1)
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = F.mse_loss(unet(x_t, t, class_labels=labels), noise)
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

    full = config.source == "full"
    per_class, steps = (SCORED_PER_CLASS, SCORE_STEPS) if full else (2, 4)
    metrics = {"final_loss_smoothed": running, **score(ema, config.dataset, config.seed, device, per_class, steps)}
    data = f"{train_set.info.title}: {len(train_set):,} training images ({config.source} set)"
    card = {
        "model": {"architecture": "core.denoisers.UNet", **config_dict(model_config)},
        "parameters": sum(p.numel() for p in unet.parameters()),
        "schedule": SCHEDULE,
        "label_dropout": LABEL_DROPOUT,
        "ema_decay": EMA_DECAY,
        "scored_with": f"DDIM, {SCORE_STEPS} steps, {SCORED_PER_CLASS} samples per class + as many unconditional",
    }
    return TrainResult(dict(ema.state_dict()), metrics, data, fp16=False, card=card)


SPEC = TrainerSpec(
    train=train,
    datasets=("mnist", "fashion"),
    defaults={name: {"steps": 4_000, "batch_size": 128, "lr": 1e-3} for name in ("mnist", "fashion")},
)
