"""Diffusion figures: DDIM speed and first-frame latency, the 2-D model's training rate, and quality vs steps.

Quality vs steps: for every sampler and step count, 200 class-conditional samples (20 per class,
fixed seeds) from the shipped MNIST DDPM, scored by the evaluator (class accuracy, FD-classifier
against the test subset). The table is also written to assets/measurements/diffusion-quality.json,
which the diffusion tab draws as its "quality vs steps" chart.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

DDIM_BUDGET_S = 1.5  # 50 DDIM steps, 16 images, 2-core CPU
FIRST_FRAME_BUDGET_MS = 300.0
QUALITY_STEPS = (5, 10, 20, 50, 100)
QUALITY_PER_CLASS = 20
QUALITY_FILE = Path(__file__).resolve().parent.parent / "assets" / "measurements" / "diffusion-quality.json"


def _ddim_seconds(model) -> dict:
    from bench.common import time_ms
    from core import diffusion_models as dm

    def full_run():
        for _ in dm.run(model, "ddim", 50, 0.0, 0, None, 16):
            pass

    return time_ms(full_run, repeats=3, warmup=1)


def _first_frame_ms() -> dict:
    """Click to first frame: the tab's own handler, until it yields its first picture."""
    from tabs import diffusion_handlers as h

    samples = []
    for seed in range(5):
        started = time.perf_counter()
        stream = h.sample_images(None, "mnist", "mixed", "ddim", 50, 0.0, seed, 16)
        next(stream)
        samples.append(1000 * (time.perf_counter() - started))
        stream.close()
    samples.sort()
    return {"median_ms": round(samples[len(samples) // 2], 1), "max_ms": round(samples[-1], 1), "repeats": 5}


def _training_2d() -> dict:
    from core.device import single_cpu_thread
    from core.diffusion2d import Diffusion2D, Diffusion2DConfig

    model = Diffusion2D(Diffusion2DConfig())
    with single_cpu_thread():
        started = time.perf_counter()
        list(model.train(2_000, every=500))
        seconds = time.perf_counter() - started
    return {"iterations": 2_000, "seconds": round(seconds, 2), "iterations_per_second": round(2_000 / seconds, 1)}


def quality_vs_steps(dataset: str = "mnist") -> dict:
    import torch

    from core import diffusion
    from core import diffusion_models as dm
    from core.evaluator import evaluate_samples, fd_floor

    model = dm.shipped(dataset)
    labels = torch.arange(10).repeat_interleave(QUALITY_PER_CLASS)
    rows = []
    for sampler in diffusion.SAMPLERS:
        for steps in QUALITY_STEPS:
            started = time.perf_counter()
            final = dm.sample(model, sampler, steps, 0.0, 0, labels)
            quality = evaluate_samples(dataset, final, labels)
            rows.append(
                {
                    "sampler": sampler,
                    "steps": steps,
                    "class_accuracy": round(quality.accuracy, 4),
                    "fd_classifier": round(quality.fd, 2),
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
    return {
        "dataset": dataset,
        "samples": len(labels),
        "note": f"{QUALITY_PER_CLASS} class-conditional samples per class, seed 0; DDIM with eta 0",
        "fd_floor": round(fd_floor(dataset), 2),
        "rows": rows,
    }


def run() -> dict:
    from core import diffusion_models as dm
    from core.device import describe

    model = dm.shipped("mnist")
    ddim = _ddim_seconds(model)
    quality = quality_vs_steps("mnist")
    QUALITY_FILE.parent.mkdir(parents=True, exist_ok=True)
    QUALITY_FILE.write_text(json.dumps({"device": describe().summary, **quality}, indent=1) + "\n")
    first = _first_frame_ms()
    return {
        "ddim_50_steps_16_images_ms": ddim,
        "ddim_budget_ms": 1000 * DDIM_BUDGET_S,
        "ddim_within_budget": ddim["median_ms"] <= 1000 * DDIM_BUDGET_S,
        "first_frame_ms": first,
        "first_frame_budget_ms": FIRST_FRAME_BUDGET_MS,
        "first_frame_within_budget": first["median_ms"] <= FIRST_FRAME_BUDGET_MS,
        "training_2d": _training_2d(),
        "quality_vs_steps": quality,
    }
