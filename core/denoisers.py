"""The image denoiser the diffusion and flow-matching tabs share: a small class-conditional UNet of our own.

A U-shaped network (Ronneberger et al. 2015) with the DDPM paper's ingredients (Ho et al. 2020,
appendix B): residual blocks with group normalisation, the timestep as a sinusoidal embedding
added inside every block, and self-attention at the lowest resolution. Sized for 28x28 images
on a CPU: 28 -> 14 -> 7 with 16, 32 and 64 channels, about 30 million multiply-adds per image,
so 50 sampling steps for 16 images take about a second on two cores. (diffusers' UNet2DModel
with the same widths costs about twice as much: it has two residual blocks per level on the way
up and more normalisation layers.)

Class-conditional through a learned class embedding added to the time embedding, with one extra
"null" class (index 10): training replaces the label by the null class for a share of images
(classifier-free guidance's label dropout, Ho & Salimans 2022), so one network samples both
"a seven" and "any digit".

The same network serves a noise predictor (diffusion: input x_t and t in 0..999) and a velocity
field (flow matching: t in [0, 1] scaled by the caller), since both are "image and time in, image out".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

N_CLASSES = 10
NULL_CLASS = N_CLASSES  # "no class": unconditional


@dataclass(frozen=True)
class DenoiserConfig:
    channels: tuple[int, int, int] = (16, 32, 64)  # at 28x28, 14x14 and 7x7
    embedding: int = 128  # width of the time (+ class) embedding
    groups: int = 8  # group normalisation groups


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sines and cosines of t at geometrically spaced frequencies (the Transformer's, as DDPM uses)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    """norm -> SiLU -> conv, plus the embedding, -> norm -> SiLU -> conv, added to the (projected) input."""

    def __init__(self, c_in: int, c_out: int, embedding: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(embedding, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """One head of attention over the 7x7 positions, residual."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).transpose(-1, -2).unbind(1)
        attended = F.scaled_dot_product_attention(q, k, v)  # (b, hw, c)
        return x + self.out(attended.transpose(-1, -2).reshape(b, c, h, w))


class UNet(nn.Module):
    def __init__(self, config: DenoiserConfig = DenoiserConfig()):
        super().__init__()
        c1, c2, c3 = config.channels
        e, g = config.embedding, config.groups
        self.config = config
        self.time = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.classes = nn.Embedding(N_CLASSES + 1, e)
        self.conv_in = nn.Conv2d(1, c1, 3, padding=1)
        self.down1 = ResBlock(c1, c1, e, g)  # 28x28
        self.pool1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)  # -> 14x14
        self.down2 = ResBlock(c2, c2, e, g)
        self.pool2 = nn.Conv2d(c2, c3, 3, stride=2, padding=1)  # -> 7x7
        self.mid1 = ResBlock(c3, c3, e, g)
        self.attention = SelfAttention(c3, g)
        self.mid2 = ResBlock(c3, c3, e, g)
        self.up2 = ResBlock(c3 + c2, c2, e, g)  # 14x14, with the skip from down2
        self.up1 = ResBlock(c2 + c1, c1, e, g)  # 28x28, with the skip from down1
        self.norm_out = nn.GroupNorm(g, c1)
        self.conv_out = nn.Conv2d(c1, 1, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # start as "predict zero": a calm first step
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor | float, class_labels: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, device=x.device).reshape(-1).expand(len(x))
        emb = self.time(timestep_embedding(t, self.classes.embedding_dim)) + self.classes(class_labels)
        h1 = self.down1(self.conv_in(x), emb)
        h2 = self.down2(self.pool1(h1), emb)
        h = self.mid2(self.attention(self.mid1(self.pool2(h2), emb)), emb)
        h = self.up2(torch.cat([F.interpolate(h, size=h2.shape[-2:], mode="nearest"), h2], dim=1), emb)
        h = self.up1(torch.cat([F.interpolate(h, size=h1.shape[-2:], mode="nearest"), h1], dim=1), emb)
        return self.conv_out(F.silu(self.norm_out(h)))


def read_unet(weights) -> tuple[UNet, dict]:
    """A trained UNet (eval mode) from its safetensors file, and the training card written beside it."""
    import json

    from safetensors.torch import load_file

    card = json.loads(weights.with_suffix(".json").read_text())
    model = card["model"]
    unet = UNet(DenoiserConfig(channels=tuple(model["channels"]), embedding=model["embedding"], groups=model["groups"]))
    unet.load_state_dict({k: v.float() for k, v in load_file(str(weights)).items()})
    return unet.eval(), card


def config_dict(config: DenoiserConfig) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def labels_for(classes: torch.Tensor | list[int] | None, n: int) -> torch.Tensor:
    """Class labels for a batch of n: the given classes (None, or -1 entries: unconditional)."""
    if classes is None:
        return torch.full((n,), NULL_CLASS, dtype=torch.long)
    labels = torch.as_tensor(classes, dtype=torch.long).clone().reshape(-1)
    if labels.numel() != n or labels.max() >= N_CLASSES:
        raise ValueError(f"Expected {n} class labels from 0 to {N_CLASSES - 1} (or -1 for 'any').")
    labels[labels < 0] = NULL_CLASS
    return labels


def drop_labels(labels: torch.Tensor, share: float, generator: torch.Generator) -> torch.Tensor:
    """Training's label dropout: each label becomes the null class with probability `share`."""
    drop = torch.rand(labels.shape, generator=generator) < share
    return torch.where(drop, torch.full_like(labels, NULL_CLASS), labels)
