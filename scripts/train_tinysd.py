"""Trainer of TinySD (core.tinysd), the guidance tab's embedded text-to-image model.

    python -m scripts.train tinysd --dataset captioned        # the shipped recipe (needs `make data`)
    python -m scripts.train tinysd --dataset captioned --steps 4 --source subset --out-dir some/folder

Two stages, as Stable Diffusion was trained:
1. the autoencoder (AutoencoderKL) on MNIST + Fashion-MNIST images padded to 32 x 32: mean squared
   reconstruction error plus a small KL term (KL_WEIGHT) that keeps the latents near a unit
   Gaussian; then frozen. Its latent scaling factor is 1 / the standard deviation of the training
   latents (how SD's 0.18215 was found).
2. the UNet and the CLIP text encoder together, on the latents of every training image with a
   caption drawn by core.tinysd.caption (10% empty: classifier-free guidance; 15% generic):
   epsilon prediction on SD's noise schedule, AdamW, warm-up then cosine decay; the shipped
   weights are an exponential moving average.

The result is written with `save_pretrained` as a diffusers StableDiffusionPipeline folder
(assets/checkpoints/tinysd-captioned/, weights in float16) with a card beside it that records the
measured guidance curve (class accuracy and FD-classifier per guidance scale, DDIM 20 steps) and
the negative-prompt effect, by core.guidance_quality.
"""

from __future__ import annotations

import copy
import math
import random
from pathlib import Path

import torch
import torch.nn.functional as F

from core import images, tinysd
from core.device import get_device
from core.guidance_quality import guidance_curve, negative_prompt_effect
from scripts.pipeline import Report, TrainConfig, TrainerSpec, TrainResult

VAE_STEPS, VAE_BATCH, VAE_LR = 1_000, 64, 2e-3
KL_WEIGHT = 1e-3  # times the KL divergence per pixel; the reconstruction error is per pixel too
WARMUP_STEPS = 200
EMA_DECAY = 0.999
SCORE_STEPS = 20  # DDIM steps of the card's samples (the tab's default)
SCORED_PER_CLASS = 25  # per class, data set and guidance scale (a smoke run: 1)


def padded_images(source: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """MNIST then Fashion-MNIST training images padded to 32 x 32, their labels and data set names."""
    pics, labels, names = [], [], []
    for dataset in tinysd.CAPTION_NAMES:
        split = images.load(dataset, "train", source)
        pics.append(F.pad(split.images, (tinysd.PAD,) * 4, value=-1.0))
        labels.append(split.labels)
        names += [dataset] * len(split)
    return torch.cat(pics), torch.cat(labels), names


def train_vae(pics: torch.Tensor, steps: int, generator: torch.Generator, report: Report, device) -> tuple:
    """Stage 1: the autoencoder; returns it (eval mode) and its last reconstruction error."""
    vae = tinysd.build_vae().to(device)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=VAE_LR)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    for step in range(1, steps + 1):
        x = pics[torch.randint(len(pics), (VAE_BATCH,), generator=generator)].to(device)
        posterior = vae.encode(x).latent_dist
        reconstruction = vae.decode(posterior.sample(generator=None)).sample
        mse = F.mse_loss(reconstruction, x)
        loss = mse + KL_WEIGHT * posterior.kl().mean() / x[0].numel()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 250 == 0 or step == steps:
            report(0, vae_step=step, vae_mse=mse.item())
    return vae.eval().requires_grad_(False), mse.item()


@torch.no_grad()
def encode_all(vae, pics: torch.Tensor, device) -> torch.Tensor:
    return torch.cat([vae.encode(chunk.to(device)).latent_dist.mean.cpu() for chunk in pics.split(500)])


def token_table(tokenizer, captions: list[str]) -> dict[str, torch.Tensor]:
    """Each distinct caption's ids, padded the way the pipeline pads a prompt."""
    distinct = sorted(set(captions))
    ids = tokenizer(
        distinct, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids
    return dict(zip(distinct, ids, strict=True))


def pipeline_of(vae, text_encoder, tokenizer, unet, scaling_factor: float):
    from diffusers import StableDiffusionPipeline

    vae.register_to_config(scaling_factor=scaling_factor)
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=tinysd.build_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def train(config: TrainConfig, report: Report) -> TrainResult:
    device = get_device()
    generator = torch.Generator().manual_seed(config.seed)
    pics, labels, names = padded_images(config.source)
    smoke = config.source != "full"

    vae, vae_mse = train_vae(pics, min(VAE_STEPS, config.steps) if smoke else VAE_STEPS, generator, report, device)
    latents = encode_all(vae, pics, device)
    scaling_factor = float(1 / latents.std())
    latents = latents * scaling_factor

    tokenizer = tinysd.build_tokenizer()
    rng = random.Random(config.seed)
    text_encoder, unet = tinysd.build_text_encoder().to(device), tinysd.build_unet().to(device)
    trained = list(text_encoder.parameters()) + list(unet.parameters())
    ema_text, ema_unet = (copy.deepcopy(m).eval().requires_grad_(False) for m in (text_encoder, unet))
    optimizer = torch.optim.AdamW(trained, lr=config.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: (
            min(1.0, (s + 1) / WARMUP_STEPS) * (0.1 + 0.45 * (1 + math.cos(math.pi * min(s / config.steps, 1.0))))
        ),
    )
    noise_schedule = tinysd.build_scheduler()
    ids_of: dict[str, torch.Tensor] = {}
    running = None
    for step in range(1, config.steps + 1):
        pick = torch.randint(len(latents), (config.batch_size,), generator=generator)
        captions = [tinysd.caption(names[i], int(labels[i]), rng) for i in pick.tolist()]
        for text in set(captions) - ids_of.keys():
            ids_of.update(token_table(tokenizer, [text]))
        ids = torch.stack([ids_of[c] for c in captions]).to(device)
        x0 = latents[pick].to(device)
        noise = torch.randn(x0.shape, generator=generator).to(device)
        t = torch.randint(noise_schedule.config.num_train_timesteps, (len(x0),), generator=generator).to(device)
        x_t = noise_schedule.add_noise(x0, noise, t)
        loss = F.mse_loss(unet(x_t, t, text_encoder(ids)[0]).sample, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            for ema, live in ((ema_text, text_encoder), (ema_unet, unet)):
                for kept, param in zip(ema.parameters(), live.parameters(), strict=True):
                    kept.lerp_(param, 1 - EMA_DECAY)
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % config.eval_every == 0 or step == config.steps:
            report(step, loss=running)
        else:
            report(step)

    pipe = pipeline_of(vae, ema_text, tokenizer, ema_unet, scaling_factor)
    per_class = 1 if smoke else SCORED_PER_CLASS
    steps = 2 if smoke else SCORE_STEPS
    curve = guidance_curve(pipe, per_class, steps, seed=config.seed)
    negative = negative_prompt_effect(pipe, per_class, steps, seed=config.seed)
    metrics = {
        "final_loss_smoothed": running,
        "vae_reconstruction_mse": vae_mse,
        "latent_scaling_factor": scaling_factor,
    }
    for dataset in tinysd.CAPTION_NAMES:
        best = max((p for p in curve if p.dataset == dataset), key=lambda p: p.accuracy)
        metrics[f"{dataset}_best_accuracy"], metrics[f"{dataset}_best_scale"] = best.accuracy, best.scale
    card = {
        "model": {
            "architecture": "diffusers StableDiffusionPipeline (core.tinysd)",
            **{k: list(v) if isinstance(v, tuple) else v for k, v in vars(tinysd.Architecture()).items()},
            "latent": [tinysd.Architecture().latent_channels, tinysd.latent_size(), tinysd.latent_size()],
            "max_prompt_tokens": tinysd.MAX_PROMPT_TOKENS,
        },
        "parameters": {
            name: sum(p.numel() for p in part.parameters())
            for name, part in (("unet", ema_unet), ("text_encoder", ema_text), ("vae", vae))
        },
        "text_encoder": "CLIPTextModel, 2 layers, width 64, trained from scratch with the UNet (no pretrained CLIP "
        "weights are available offline; a frozen sentence encoder would not fit the pipeline's CLIP slot)",
        "captions": {
            "empty_share": tinysd.EMPTY_SHARE,
            "generic_share": tinysd.GENERIC_SHARE,
            "scoring": tinysd.SCORING_TEMPLATE,
        },
        "vae_training": {
            "steps": VAE_STEPS if not smoke else min(VAE_STEPS, config.steps),
            "batch_size": VAE_BATCH,
            "lr": VAE_LR,
            "kl_weight": KL_WEIGHT,
        },
        "ema_decay": EMA_DECAY,
        "scored_with": f"DDIM, {steps} steps, {per_class} images per class, data set and scale; core.evaluator",
        "guidance_curve": [vars(p) for p in curve],
        "negative_prompt": [vars(e) for e in negative],
    }
    data = (
        f"MNIST + Fashion-MNIST: {len(pics):,} training images ({config.source} set), padded to 32 x 32, "
        "captioned from their labels (core.tinysd.CAPTIONS)"
    )

    def save_folder(folder: Path) -> None:
        half = pipeline_of(
            copy.deepcopy(vae), copy.deepcopy(ema_text), tokenizer, copy.deepcopy(ema_unet), scaling_factor
        )
        half.to(torch.float16).save_pretrained(folder)

    return TrainResult({}, metrics, data, fp16=True, card=card, save_folder=save_folder)


SPEC = TrainerSpec(
    train=train,
    datasets=("captioned",),
    defaults={"captioned": {"steps": 3_000, "batch_size": 128, "lr": 1e-3}},
)
