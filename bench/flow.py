"""Flow-matching figures: image sampling speed, the live 2-D training rate, and image quality vs cost.

- 16 MNIST digits with 10 Euler steps from the shipped flow (the issue's bound: 1 s on the 2-core CPU);
- 2,000 iterations of 2-D training (8 Gaussians) per coupling, raw and through the tab's own
  streaming handler, which draws a loss chart every 50 iterations (the bound: 10 s);
- quality vs network evaluations: 200 class-conditional samples (20 per class, seed 0) per point
  from the shipped MNIST flow with Euler and midpoint, scored by the evaluator. The table is also
  written to assets/measurements/flow-quality.json, which the flow tab draws next to the
  diffusion tab's DDIM curve (assets/measurements/diffusion-quality.json, `python -m bench diffusion`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

SAMPLE_BUDGET_S = 1.0  # 16 images, 10 Euler steps, 2-core CPU
TRAINING_BUDGET_S = 10.0  # 2,000 live 2-D iterations, 2-core CPU
TRAINING_ITERATIONS = 2_000
QUALITY_STEPS = {"euler": (1, 2, 5, 10, 20, 50, 100), "midpoint": (1, 2, 5, 10, 25, 50)}
QUALITY_PER_CLASS = 20
QUALITY_FILE = Path(__file__).resolve().parent.parent / "assets" / "measurements" / "flow-quality.json"


def _sample_ms(model) -> dict:
    from bench.common import time_ms
    from core import flow_models as fm

    return time_ms(lambda: fm.finished(fm.run(model, "euler", 10, 0, None, 16)), repeats=5, warmup=1)


def _training_2d(coupling: str) -> dict:
    """Raw: Flow2D.train alone. Streaming: the tab's train handler, loss chart and status included."""
    from core.device import single_cpu_thread
    from core.flow2d import Flow2D, Flow2DConfig
    from core.live_slots import TrainingSlots
    from tabs import flow_handlers as h

    out = {}
    if coupling == "reflow":  # a reflow needs a trained teacher first (not timed)
        teacher = Flow2D(Flow2DConfig(coupling="independent"))
        with single_cpu_thread():
            list(teacher.train(TRAINING_ITERATIONS, every=500))
    else:
        teacher = None
    model = Flow2D(Flow2DConfig(coupling=coupling), teacher=teacher)
    with single_cpu_thread():
        started = time.perf_counter()
        list(model.train(TRAINING_ITERATIONS, every=500))
        out["raw_seconds"] = round(time.perf_counter() - started, 2)

    session = h.FlowSession(model=teacher) if teacher is not None else None
    original, h.LIVE_TRAINING = h.LIVE_TRAINING, TrainingSlots()  # a private line: nothing else is waiting
    try:
        started = time.perf_counter()
        frames = sum(1 for _ in h.train(session, "8gaussians", coupling, TRAINING_ITERATIONS, 0))
        out["streaming_seconds"] = round(time.perf_counter() - started, 2)
    finally:
        h.LIVE_TRAINING = original
    out["frames_sent"] = frames
    out["iterations_per_second_raw"] = round(TRAINING_ITERATIONS / out["raw_seconds"], 1)
    out["iterations_per_second_streaming"] = round(TRAINING_ITERATIONS / out["streaming_seconds"], 1)
    out["within_budget"] = out["streaming_seconds"] <= TRAINING_BUDGET_S
    return out


def quality_vs_evaluations(dataset: str = "mnist") -> dict:
    import torch

    from core import flow
    from core import flow_models as fm
    from core.evaluator import evaluate_samples, fd_floor

    model = fm.shipped(dataset)
    labels = torch.arange(10).repeat_interleave(QUALITY_PER_CLASS)
    rows = []
    for solver, step_counts in QUALITY_STEPS.items():
        for steps in step_counts:
            started = time.perf_counter()
            final = fm.sample(model, solver, steps, 0, labels)
            quality = evaluate_samples(dataset, final, labels)
            rows.append(
                {
                    "solver": solver,
                    "steps": steps,
                    "evaluations": steps * flow.EVALUATIONS_PER_STEP[solver],
                    "class_accuracy": round(quality.accuracy, 4),
                    "fd_classifier": round(quality.fd, 2),
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
    return {
        "dataset": dataset,
        "samples": len(labels),
        "note": f"{QUALITY_PER_CLASS} class-conditional samples per class, seed 0, the same noise for every point",
        "fd_floor": round(fd_floor(dataset), 2),
        "rows": rows,
    }


def run() -> dict:
    from core import flow_models as fm
    from core.device import describe

    sample = _sample_ms(fm.shipped("mnist"))
    quality = quality_vs_evaluations("mnist")
    QUALITY_FILE.parent.mkdir(parents=True, exist_ok=True)
    QUALITY_FILE.write_text(json.dumps({"device": describe().summary, **quality}, indent=1) + "\n")
    training = {coupling: _training_2d(coupling) for coupling in ("independent", "ot", "reflow")}
    return {
        "euler_10_steps_16_images_ms": sample,
        "sample_budget_ms": 1000 * SAMPLE_BUDGET_S,
        "sample_within_budget": sample["median_ms"] <= 1000 * SAMPLE_BUDGET_S,
        "training_2d_2000_iterations": training,
        "training_budget_s": TRAINING_BUDGET_S,
        "quality_vs_evaluations": quality,
    }
