"""VAE figures: decoding one latent, a 15 x 15 manifold, one live-training epoch, encoding 1,000 images."""

from __future__ import annotations

import time

import torch

from bench.common import time_ms
from core import images
from core import vae_models as vm
from core.assets import AssetError
from core.device import describe, get_device
from core.vae import ConvVAE, VAEConfig, decode_batched, encode_batched, grid_latents
from core.vae_live import LiveVAE

DECODE_BUDGET_MS = 10.0  # the bound for decoding one latent (what a click on the map costs)
MANIFOLD_BUDGET_MS = 300.0  # 15 x 15 manifold, decoded
EPOCH_BUDGET_S_PER_10K = 20.0  # live training, seconds per 10,000 images, 2-core CPU
GRID_N = 15


def _fresh_model() -> ConvVAE:
    torch.manual_seed(0)  # same weights every run; a benchmark, not a handler
    return ConvVAE(VAEConfig(latent_dim=2)).to(get_device()).eval()


def _model() -> tuple[str, ConvVAE, vm.ShippedVAE | None]:
    """The first shipped 2-D model, or an untrained one of the same architecture if none is shipped."""
    problems = []
    for key in (key for key in vm.models() if "-2d-" in key):
        try:
            vae = vm.load(key)
        except (AssetError, OSError, ValueError) as err:  # e.g. a checkpoint still being trained
            problems.append(f"{key}: {err}")
            continue
        return key, vae.model, vae
    reason = "; ".join(problems) or "no shipped 2-D model"
    return f"fresh ConvVAE(VAEConfig(latent_dim=2)) ({reason})", _fresh_model(), None


def run() -> dict:
    which, model, shipped = _model()
    z = torch.zeros(2)
    if shipped is not None:
        decode = time_ms(lambda: vm.decode(shipped, z), repeats=200, warmup=5)
        manifold = time_ms(lambda: vm.manifold(shipped, GRID_N, -3.0, 3.0, "quantile"), repeats=20)
    else:
        decode = time_ms(lambda: decode_batched(model, z[None]), repeats=200, warmup=5)
        manifold = time_ms(lambda: decode_batched(model, grid_latents(GRID_N, -3.0, 3.0, "quantile")[0]), repeats=20)

    test = images.load_subset("mnist", "test").images[:1000]
    encode = time_ms(lambda: encode_batched(model, test), repeats=10)

    live = LiveVAE(dataset="mnist", seed=0)
    n_train = len(live.train_images)
    started = time.perf_counter()
    frames = list(live.run(epochs=1.0))  # the tab's default frame cadence (a frame every 20 steps)
    epoch_s = time.perf_counter() - started
    per_10k = epoch_s * 10_000 / (live.step * live.batch_size)

    return {
        "device": describe().summary,
        "live_training_device": "CPU (LiveVAE trains on the CPU by design)",
        "model": which,
        "decode_one_latent": {
            **decode,
            "budget_ms": DECODE_BUDGET_MS,
            "within_budget": decode["median_ms"] <= DECODE_BUDGET_MS,
        },
        f"manifold_{GRID_N}x{GRID_N}": {
            **manifold,
            "via": "core.vae_models.manifold" if shipped is not None else "core.vae.grid_latents + decode_batched",
            "budget_ms": MANIFOLD_BUDGET_MS,
            "within_budget": manifold["median_ms"] <= MANIFOLD_BUDGET_MS,
        },
        "encode_1000_images": encode,
        "live_epoch_mnist_subset": {
            "train_images": n_train,
            "steps": live.step,
            "batch_size": live.batch_size,
            "frames": len(frames),
            "seconds": round(epoch_s, 2),
            "seconds_per_10k_images": round(per_10k, 2),
            "budget_s_per_10k_images": EPOCH_BUDGET_S_PER_10K,
            "within_budget": per_10k <= EPOCH_BUDGET_S_PER_10K,
            "final_loss": round(live.history[-1]["loss"], 2) if live.history else None,
        },
    }
