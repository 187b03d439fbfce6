"""Variational autoencoders on 28x28 images: the model, its loss, and walks through its latent space.

A VAE (Kingma and Welling 2014, "Auto-Encoding Variational Bayes", https://arxiv.org/abs/1312.6114)
encodes an image x into the mean mu and log-variance log(sigma^2) of a Gaussian q(z | x) over a
small latent vector z, and decodes a z back into an image. Training maximises the evidence lower
bound (ELBO, eq. 3 of the paper):

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || N(0, I))
            = -(reconstruction + KL)            (nats per image, both terms >= 0)

- reconstruction: -log p(x | z) with a Bernoulli decoder, i.e. the binary cross-entropy between
  the decoder's pixel probabilities and the image's pixels in [0, 1], summed over the 784 pixels;
- KL: closed form for two Gaussians (appendix B of the paper):
  0.5 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2).

The beta-VAE (Higgins et al. 2017, https://openreview.net/forum?id=Sy2fzU9gl) trains on
reconstruction + beta * KL: beta > 1 buys a smoother, more Gaussian latent map with blurrier
reconstructions, beta < 1 the reverse. The reported ELBO always uses beta = 1.

Images follow core.images' convention: (N, 1, 28, 28) float32 in [-1, 1]. `decode` returns that
convention too (2 * pixel probability - 1). Nothing loads at import time.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

PIXELS = 28 * 28
Spacing = Literal["linear", "quantile"]
Path_ = Literal["linear", "spherical"]


@dataclass
class VAEConfig:
    latent_dim: int = 2
    beta: float = 1.0  # weight of the KL term in the training loss
    channels: tuple[int, int] = (16, 32)  # conv widths at 14x14 and 7x7
    hidden: int = 128  # width of the fully connected layer on each side


@dataclass
class VAEPass:
    """Everything one encode -> sample -> decode pass produces (batch first)."""

    mu: torch.Tensor  # (N, d)
    logvar: torch.Tensor  # (N, d), log sigma^2
    z: torch.Tensor  # (N, d), mu + sigma * eps
    logits: torch.Tensor  # (N, 1, 28, 28), decoder output before the sigmoid

    @property
    def sigma(self) -> torch.Tensor:
        return torch.exp(0.5 * self.logvar)

    @property
    def reconstruction(self) -> torch.Tensor:
        return torch.sigmoid(self.logits) * 2 - 1  # back to [-1, 1]


class ConvVAE(nn.Module):
    """Two stride-2 convolutions down to 7x7, a linear layer to (mu, log sigma^2); the mirror image up."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        c1, c2 = config.channels
        d, h = config.latent_dim, config.hidden
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1),  # 28 -> 14
            nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1),  # 14 -> 7
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, h),
            nn.ReLU(),
            nn.Linear(h, 2 * d),  # mu and log sigma^2 side by side
        )
        self.decoder = nn.Sequential(
            nn.Linear(d, h),
            nn.ReLU(),
            nn.Linear(h, c2 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),  # 7 -> 14
            nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),  # 14 -> 28, logits of pixel probabilities
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> ConvVAE:
        """Re-initialise every weight from `generator` (PyTorch's default scheme, zero biases), so a
        seed fixes the initial model without touching the global random state."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        return self

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mu and log sigma^2, (N, d) each, of q(z | x) for images x in [-1, 1]."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)  # keeps exp() finite on odd inputs

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] (the mean of the Bernoulli decoder, rescaled) for latents z (N, d)."""
        return torch.sigmoid(self.decoder(z)) * 2 - 1

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VAEPass:
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)
        return VAEPass(mu, logvar, z, self.decode_logits(z))


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a sample of q(z | x) that gradients flow through (eq. 10)."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) per row, in nats: 0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) per image, in nats: Bernoulli cross-entropy summed over pixels (x in [-1, 1])."""
    targets = (x + 1) / 2
    return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").flatten(1).sum(dim=1)


@dataclass
class ELBOTerms:
    """Batch means, nats per image."""

    reconstruction: torch.Tensor
    kl: torch.Tensor
    loss: torch.Tensor  # reconstruction + beta * KL: what training minimises
    elbo: torch.Tensor  # -(reconstruction + KL): the bound itself (beta = 1)


def elbo_terms(
    model: ConvVAE, x: torch.Tensor, beta: float | None = None, generator: torch.Generator | None = None
) -> ELBOTerms:
    out = model(x, generator)
    rec = reconstruction_nll(out.logits, x).mean()
    kl = kl_divergence(out.mu, out.logvar).mean()
    beta = model.config.beta if beta is None else beta
    return ELBOTerms(reconstruction=rec, kl=kl, loss=rec + beta * kl, elbo=-(rec + kl))


def train_step(
    model: ConvVAE,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    beta: float | None = None,
    generator: torch.Generator | None = None,
) -> ELBOTerms:
    """One gradient step on reconstruction + beta * KL for the batch x (already on the model's device)."""
    model.train()
    terms = elbo_terms(model, x, beta, generator)
    optimizer.zero_grad(set_to_none=True)
    terms.loss.backward()
    optimizer.step()
    return terms


@torch.no_grad()
def evaluate(model: ConvVAE, x: torch.Tensor, seed: int = 0, batch_size: int = 500) -> dict[str, float]:
    """Mean reconstruction, KL and ELBO (nats per image, one z sample each, seeded) over images x."""
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    totals = {"reconstruction": 0.0, "kl": 0.0, "elbo": 0.0}
    for chunk in x.split(batch_size):
        terms = elbo_terms(model, chunk.to(device), 1.0, generator)
        for name in totals:
            totals[name] += float(getattr(terms, name)) * len(chunk)
    return {name: value / len(x) for name, value in totals.items()}


# --- walks through the latent space ---


def lerp(a: torch.Tensor, b: torch.Tensor, ts: torch.Tensor) -> torch.Tensor:
    """(len(ts), d): the straight line a + t (b - a)."""
    return a[None] + ts[:, None] * (b - a)[None]


def slerp(a: torch.Tensor, b: torch.Tensor, ts: torch.Tensor) -> torch.Tensor:
    """(len(ts), d): spherical interpolation (Shoemake 1985), as White 2016 suggests for Gaussian latents.

    Moves along the great circle between the directions of a and b at constant angular speed,
    with the norm interpolated linearly, so midpoints keep a typical norm instead of shrinking
    towards the origin as on the straight line. Falls back to lerp when a and b are (anti)parallel.
    """
    a64, b64, t64 = a.double(), b.double(), ts.double()[:, None]  # float32 rounds cos near +-1 badly
    norm_a, norm_b = a64.norm(), b64.norm()
    if norm_a < 1e-8 or norm_b < 1e-8:
        return lerp(a, b, ts)
    cos = torch.clamp(torch.dot(a64 / norm_a, b64 / norm_b), -1.0, 1.0)
    if cos.abs() > 1 - 1e-9:  # (anti)parallel: no unique great circle
        return lerp(a, b, ts)
    omega = torch.arccos(cos)
    direction = (torch.sin((1 - t64) * omega) * (a64 / norm_a) + torch.sin(t64 * omega) * (b64 / norm_b)) / torch.sin(
        omega
    )
    return (direction * ((1 - t64) * norm_a + t64 * norm_b)).to(a.dtype)


def path(a: torch.Tensor, b: torch.Tensor, steps: int, kind: Path_ = "linear") -> torch.Tensor:
    """`steps` latents from a to b (both ends included)."""
    ts = torch.linspace(0.0, 1.0, steps, device=a.device, dtype=a.dtype)
    return slerp(a, b, ts) if kind == "spherical" else lerp(a, b, ts)


def axis_values(n: int, low: float, high: float, spacing: Spacing = "linear") -> torch.Tensor:
    """n values from low to high: evenly spaced, or at evenly spaced N(0, 1) quantiles.

    "quantile" spaces the cumulative probabilities evenly between Phi(low) and Phi(high) and maps
    them back through the inverse CDF: equal prior mass between neighbours, so more points where
    the prior (and usually the data) is dense, as in the Keras VAE example's manifold.
    """
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ValueError(f"the latent range must be two finite numbers, low < high (got {low}, {high})")
    if spacing == "linear":
        return torch.linspace(low, high, n)
    # float64: float32's CDF saturates past |z| ~ 5, which would collapse a far-out grid to one value
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), 1.0)
    lo, hi = normal.cdf(torch.tensor(low, dtype=torch.float64)), normal.cdf(torch.tensor(high, dtype=torch.float64))
    probabilities = torch.linspace(float(lo), float(hi), n, dtype=torch.float64).clamp(1e-15, 1 - 1e-15)
    values = normal.icdf(probabilities).float()
    values[0], values[-1] = low, high  # exact endpoints (the inverse CDF is off by rounding far out)
    return values


def grid_latents(
    n: int,
    low: float,
    high: float,
    spacing: Spacing = "linear",
    dims: tuple[int, int] = (0, 1),
    base: torch.Tensor | None = None,
    latent_dim: int = 2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(n*n, d) latents of an n x n manifold grid and the axis values (n,).

    Row r, column c varies dims[0] along columns (left to right) and dims[1] along rows (top =
    high, like a plot's y axis); other dimensions are taken from `base` (default zeros).
    """
    values = axis_values(n, low, high, spacing)
    base = torch.zeros(latent_dim) if base is None else base.detach().float().cpu()
    z = base.repeat(n * n, 1)
    rows, cols = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    z[:, dims[0]] = values[cols.flatten()]
    z[:, dims[1]] = values.flip(0)[rows.flatten()]
    return z, values


@torch.no_grad()
def decode_batched(model: ConvVAE, z: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Images (N, 1, 28, 28) in [-1, 1] on the CPU for latents z (N, d)."""
    device = next(model.parameters()).device
    return torch.cat([model.decode(chunk.to(device)).cpu() for chunk in z.split(batch_size)])


@torch.no_grad()
def encode_batched(model: ConvVAE, x: torch.Tensor, batch_size: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    device = next(model.parameters()).device
    parts = [model.encode(chunk.to(device)) for chunk in x.split(batch_size)]
    return torch.cat([m.cpu() for m, _ in parts]), torch.cat([v.cpu() for _, v in parts])


# --- saving and loading ---


def save_vae(model: ConvVAE, path: str | Path, extras: dict[str, torch.Tensor] | None = None) -> Path:
    """Weights (+ extra tensors such as test-set latents) to path, the config to the JSON card beside it."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors.update({k: v.detach().cpu().contiguous() for k, v in (extras or {}).items()})
    save_file(tensors, str(path))
    path.with_suffix(".json").write_text(json.dumps({"model": asdict(model.config)}, indent=2) + "\n")
    return path


def model_keys(model: ConvVAE) -> set[str]:
    return set(model.state_dict())


def load_vae(path: str | Path, device: torch.device | str = "cpu") -> tuple[ConvVAE, dict[str, torch.Tensor], dict]:
    """The model (eval mode, float32), the extra tensors stored with it, and its card."""
    from safetensors.torch import load_file

    path = Path(path)
    card = json.loads(path.with_suffix(".json").read_text())
    if "model" not in card:
        raise ValueError(f"{path.with_suffix('.json')} has no 'model' entry (the VAEConfig)")
    config = card["model"]
    config = VAEConfig(**{**config, "channels": tuple(config.get("channels", (16, 32)))})
    model = ConvVAE(config)
    tensors = load_file(str(path))
    own = model_keys(model)
    model.load_state_dict({k: v.float() for k, v in tensors.items() if k in own})
    extras = {k: v for k, v in tensors.items() if k not in own}
    return model.to(device).eval(), extras, card
