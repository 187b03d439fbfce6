"""The shipped VAEs and what the VAE tab asks of them: decode, encode, manifolds, paths, UMAP places.

Every model is a registry entry (core.assets.VAE_CHECKPOINTS) trained by scripts/train_vae.py.
Its file holds the weights plus the test-set latent means and labels, so the latent map needs no
encoding at run time; a 16-D model also holds a UMAP projection of (a sample of) those means and
has the fitted reducer in a pickle beside it.

UMAP's first transform in a process JIT-compiles for ~15 s (and `import umap` can take ~30 s on a
fresh machine). Nobody waits on that: `umap_place` answers at once with the exact transform when
the reducer is warm, and otherwise with the inverse-distance average of the embedding of the 15
nearest fitted latents (what UMAP itself starts a new point from) while a background thread warms
the reducer. The answer says which of the two it is.
"""

from __future__ import annotations

import pickle
import threading
from dataclasses import dataclass, field
from typing import Any

import torch

from core import assets, images
from core.device import get_device
from core.vae import ConvVAE, Path_, Spacing, decode_batched, grid_latents, load_vae, path

MAX_LATENT_ABS = 50.0  # latents beyond this are far outside anything the decoder has seen


@dataclass
class ShippedVAE:
    key: str
    title: str
    dataset: str  # "mnist" or "fashion"
    model: ConvVAE
    test_latents: torch.Tensor  # (N, d) latent means of the whole test set
    test_labels: torch.Tensor  # (N,)
    card: dict
    umap_embedding: torch.Tensor | None = None  # (M, 2) for 16-D models
    umap_index: torch.Tensor | None = None  # (M,) which test rows the embedding shows
    _reducer: Any = field(default=None, repr=False)
    _reducer_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # load and transform
    _warm_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # starting the warm-up
    _warming: threading.Thread | None = field(default=None, repr=False)

    @property
    def latent_dim(self) -> int:
        return self.model.latent_dim

    @property
    def beta(self) -> float:
        return self.model.config.beta

    @property
    def class_names(self) -> tuple[str, ...]:
        return images.info(self.dataset).class_names


def models() -> dict[str, str]:
    """key -> title of every shipped VAE whose weights are present."""
    return {
        key: title
        for key, (title, _, _) in assets.VAE_CHECKPOINTS.items()
        if (assets.REPO_ROOT / "assets" / "checkpoints" / f"{key}.safetensors").is_file()
    }


def read_shipped_vae(key: str) -> ShippedVAE:  # registry loader of every "vae-..." entry
    asset = assets.get(key)
    model, extras, card = load_vae(asset.files[0].path(), get_device())
    dataset = card["config"]["dataset"]
    return ShippedVAE(
        key=key,
        title=assets.VAE_CHECKPOINTS[key][0],
        dataset=dataset,
        model=model,
        test_latents=extras["test_latents"].float(),
        test_labels=extras["test_labels"].long(),
        card=card,
        umap_embedding=extras["umap_embedding"].float() if "umap_embedding" in extras else None,
        umap_index=extras["umap_index"].long() if "umap_index" in extras else None,
    )


def load(key: str) -> ShippedVAE:
    if key not in assets.VAE_CHECKPOINTS:
        raise ValueError(f"Unknown VAE {key!r}; choose from {', '.join(assets.VAE_CHECKPOINTS)}.")
    return assets.load_embedded(key)


def check_latent(vae: ShippedVAE, z: torch.Tensor | list[float]) -> torch.Tensor:
    """z as a float tensor of shape (d,), or ValueError for wrong sizes, NaN or absurd values."""
    z = torch.as_tensor(z, dtype=torch.float32).flatten()
    if z.numel() != vae.latent_dim:
        raise ValueError(f"This model's latent has {vae.latent_dim} numbers, not {z.numel()}.")
    if not torch.isfinite(z).all():
        raise ValueError("Latent values must be finite numbers (no NaN or infinity).")
    if z.abs().max() > MAX_LATENT_ABS:
        raise ValueError(f"Latent values are limited to +-{MAX_LATENT_ABS:g}; the prior puts 99.7% within +-3.")
    return z


@torch.no_grad()
def decode(vae: ShippedVAE, z: torch.Tensor | list[float]) -> torch.Tensor:
    """(1, 28, 28) in [-1, 1] for one latent."""
    return decode_batched(vae.model, check_latent(vae, z)[None])[0]


@torch.no_grad()
def encode(vae: ShippedVAE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """mu and sigma, (d,) each, of q(z | x) for one image (1, 1, 28, 28) or (1, 28, 28)."""
    device = next(vae.model.parameters()).device
    mu, logvar = vae.model.encode(x.reshape(1, 1, 28, 28).to(device))
    return mu[0].cpu(), torch.exp(0.5 * logvar[0]).cpu()


MAX_GRID = 30


def manifold(
    vae: ShippedVAE,
    n: int,
    low: float,
    high: float,
    spacing: Spacing = "linear",
    dims: tuple[int, int] = (0, 1),
    base: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoded n x n grid (n*n, 1, 28, 28) and its axis values; see core.vae.grid_latents."""
    n = int(n)
    if not 2 <= n <= MAX_GRID:
        raise ValueError(f"The grid size must be between 2 and {MAX_GRID}.")
    for value in (low, high):
        if value is None or not -MAX_LATENT_ABS <= float(value) <= MAX_LATENT_ABS:
            raise ValueError(f"The latent range must lie within +-{MAX_LATENT_ABS:g} (and be a number).")
    if len(set(dims)) != 2 or not all(0 <= d < vae.latent_dim for d in dims):
        raise ValueError(f"Pick two different latent dimensions between 0 and {vae.latent_dim - 1}.")
    z, values = grid_latents(n, float(low), float(high), spacing, dims, base, vae.latent_dim)
    return decode_batched(vae.model, z), values


def interpolate(
    vae: ShippedVAE, x_a: torch.Tensor, x_b: torch.Tensor, steps: int, kind: Path_ = "linear"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The latent path between the means of two images and its decoded frames (steps, 1, 28, 28)."""
    steps = int(steps)
    if not 2 <= steps <= 64:
        raise ValueError("Choose between 2 and 64 frames.")
    z = path(encode(vae, x_a)[0], encode(vae, x_b)[0], steps, kind)
    return z, decode_batched(vae.model, z)


# --- where a 16-D latent lands in the UMAP picture ---


@dataclass(frozen=True)
class UmapPlace:
    xy: tuple[float, float]
    exact: bool  # True: reducer.transform; False: neighbour average while the reducer warms up


def _load_reducer(vae: ShippedVAE) -> None:
    with vae._reducer_lock:
        if vae._reducer is not None:
            return
        reducer = pickle.loads(vae_reducer_file(vae).read_bytes())  # our own file, hash-checked at load
        reducer.transform(vae.test_latents[:2].numpy())  # compiles numba's transform once per process
        vae._reducer = reducer


def vae_reducer_file(vae: ShippedVAE):
    return assets.get(vae.key).files[1].path()


def warm_umap(vae: ShippedVAE) -> None:
    """Start loading and compiling the reducer in the background (idempotent, returns at once)."""
    if vae.umap_embedding is None or vae._reducer is not None:
        return
    with vae._warm_lock:  # not the reducer lock: the warm-up holds that for its whole ~15-30 s
        if vae._warming is None:
            vae._warming = threading.Thread(target=_load_reducer, args=(vae,), name=f"umap-{vae.key}", daemon=True)
            vae._warming.start()


def umap_ready(vae: ShippedVAE) -> bool:
    return vae._reducer is not None


def umap_place(vae: ShippedVAE, z: torch.Tensor, wait: bool = False) -> UmapPlace:
    """Where latent z (d,) lands in the shipped UMAP picture of this model."""
    if vae.umap_embedding is None or vae.umap_index is None:
        raise ValueError(f"{vae.title} has no UMAP projection (2-D latents are shown directly).")
    z = check_latent(vae, z)
    if wait:
        _load_reducer(vae)
    if vae._reducer is not None:
        with vae._reducer_lock:  # numba's transform is not documented as thread-safe
            xy = vae._reducer.transform(z[None].numpy())[0]
        return UmapPlace((float(xy[0]), float(xy[1])), exact=True)
    warm_umap(vae)
    fitted = vae.test_latents[vae.umap_index]
    distances = torch.cdist(z[None], fitted)[0]
    nearest = distances.topk(15, largest=False)
    weights = 1.0 / (nearest.values + 1e-6)
    xy = (vae.umap_embedding[nearest.indices] * weights[:, None]).sum(0) / weights.sum()
    return UmapPlace((float(xy[0]), float(xy[1])), exact=False)
