"""Trainer of the shipped DCGAN snapshot series (core.dcgan): one run, the generator saved along the way.

    python -m scripts.train dcgan --dataset mnist              # the shipped recipe (needs `make data`)
    python -m scripts.train dcgan --dataset fashion --steps 30 --source subset --out-dir some/folder

The GAN tab lets a user scrub through training without waiting for it: the generator's weights
(with its batch-norm statistics) are kept at every step in SNAPSHOT_STEPS, all in one
safetensors file under keys "step<N>.<parameter>". The card reports, per snapshot, the
FD-classifier, class coverage and class histogram of 1,000 samples from fixed noise (scored by
core.evaluator against the test subset), so the tab shows measured numbers beside each picture.
"""

from __future__ import annotations

import copy
from dataclasses import asdict

import torch

from core import images
from core.dcgan import DCGAN, SNAPSHOT_STEPS, DCGANConfig, noise_for
from core.evaluator import evaluate_samples, fd_floor
from scripts.pipeline import Report, TrainConfig, TrainerSpec, TrainResult

SCORED_SAMPLES = 1_000
SCORE_SEED = 12_345  # the noise every snapshot is scored on


def snapshot_steps(total: int) -> list[int]:
    """The shipped snapshot steps that fit in a run of `total` steps, always ending with `total`."""
    return sorted({s for s in SNAPSHOT_STEPS if s < total} | {total})


def _score(gan: DCGAN, dataset: str, noise: torch.Tensor) -> dict:
    quality = evaluate_samples(dataset, gan.sample(noise))
    return {
        "fd_classifier": quality.fd,
        "class_coverage": quality.coverage,
        "histogram": [round(share, 4) for share in quality.histogram],
    }


def train(config: TrainConfig, report: Report) -> TrainResult:
    # on the CPU: batch-64 convolutions this small gain little from a GPU, and the series must be
    # reproducible bit for bit wherever it is retrained
    train_set = images.load(config.dataset, "train", config.source)
    gan = DCGAN(
        DCGANConfig(
            dataset=config.dataset, batch_size=config.batch_size, lr_g=config.lr, lr_d=config.lr, seed=config.seed
        ),
        train_images=train_set.images,
    )
    score_noise = noise_for(SCORE_SEED, SCORED_SAMPLES, gan.config.noise_dim)
    keep = snapshot_steps(config.steps)
    state: dict[str, torch.Tensor] = {}
    snapshots: list[dict] = []

    def snapshot() -> None:
        for name, tensor in gan.generator.state_dict().items():
            state[f"step{gan.step}.{name}"] = tensor.detach().clone()
        snapshots.append({"step": gan.step, **_score(gan, config.dataset, score_noise)})
        report(gan.step, fd_classifier=snapshots[-1]["fd_classifier"])

    snapshot()  # step 0: the untrained generator
    while gan.step < config.steps:
        losses = gan.train_step()
        if gan.step in keep:
            snapshot()
        elif gan.step % config.eval_every == 0:
            report(gan.step, **losses)
        else:
            report(gan.step)

    # half precision if the last snapshot scores the same with fp16 weights (it halves the file)
    half = copy.deepcopy(gan)
    for tensor in half.generator.state_dict().values():
        if tensor.is_floating_point():
            tensor.copy_(tensor.half().float())
    fd_half = _score(half, config.dataset, score_noise)["fd_classifier"]
    final = snapshots[-1]
    fp16 = abs(fd_half - final["fd_classifier"]) < 0.02 * final["fd_classifier"] + 1.0
    metrics = {
        "fd_classifier": final["fd_classifier"],
        "fd_classifier_fp16_weights": fd_half,
        "class_coverage": final["class_coverage"],
        "fd_floor": fd_floor(config.dataset),
    }
    data = f"{train_set.info.title}: {len(train_set):,} training images ({config.source} set)"
    card = {
        "model": asdict(gan.config),
        "parameters": {
            "generator": sum(p.numel() for p in gan.generator.parameters()),
            "discriminator": sum(p.numel() for p in gan.discriminator.parameters()),
        },
        "snapshots": snapshots,
        "scored_on": f"{SCORED_SAMPLES} samples from noise seed {SCORE_SEED}, generator in eval mode",
    }
    return TrainResult(state, metrics, data, fp16=fp16, card=card)


SPEC = TrainerSpec(
    train=train,
    datasets=("mnist", "fashion"),
    defaults={name: {"steps": 10_000, "batch_size": 64, "lr": 2e-4} for name in ("mnist", "fashion")},
)
