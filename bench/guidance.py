"""Guidance figures: TinySD's speed (bare pipeline vs the tab), and its measured guidance curve.

- 4 images, 20 DDIM steps with guidance (scale 5), TinySD on this machine: a bare
  `pipeline(...)` call, the tab's run (per-step recording and x0 previews) and the tab's whole
  handler (pictures included); the ratio of the last two to the bare call is the tab's overhead.
  The issue's bound: 2 s on the 2-core CPU.
- prompt adherence against guidance scale: class accuracy (by the evaluator) and FD-classifier of
  QUALITY_PER_CLASS images per class and data set at each scale; and the negative-prompt effect.
- Real SD (SD-Turbo, SD 1.5) figures need a GPU and the Hub; without them they are reported as skipped.
"""

from __future__ import annotations

import time

SPEED_BUDGET_S = 2.0
QUALITY_PER_CLASS = 20
PROMPT = "a handwritten seven"


def _speed() -> dict:
    from bench.common import time_ms
    from core import guidance as g
    from core import guidance_run as gr_run
    from tabs import guidance_handlers as h

    loaded = g.load("tinysd")
    settings = g.Settings(prompt=PROMPT, scale=5.0, steps=20, batch=4)

    def bare():
        pipe = loaded.for_request("DDIM")
        import torch

        pipe(
            [PROMPT] * 4,
            guidance_scale=5.0,
            num_inference_steps=20,
            generator=[torch.Generator().manual_seed(i) for i in range(4)],
            output_type="np",
        )

    def handler():
        for _ in h.generate("tinysd", "", PROMPT, "", 5.0, 0.0, 20, "DDIM", 0, 4, 0, 1.0):
            pass

    out = {
        "bare_pipeline_ms": time_ms(bare, repeats=7),
        "tab_run_with_previews_ms": time_ms(lambda: gr_run.generate(loaded, settings), repeats=7),
        "tab_handler_ms": time_ms(handler, repeats=7),
    }
    bare_ms = out["bare_pipeline_ms"]["median_ms"]
    out["overhead_ratio_run"] = round(out["tab_run_with_previews_ms"]["median_ms"] / bare_ms, 2)
    out["overhead_ratio_handler"] = round(out["tab_handler_ms"]["median_ms"] / bare_ms, 2)
    out["budget_ms"] = 1000 * SPEED_BUDGET_S
    out["within_budget"] = out["tab_handler_ms"]["median_ms"] <= 1000 * SPEED_BUDGET_S
    return out


def _quality() -> dict:
    from dataclasses import asdict

    from core import guidance as g
    from core import guidance_quality as q

    pipe = g.load("tinysd").for_request("DDIM")
    started = time.perf_counter()
    curve = q.guidance_curve(pipe, QUALITY_PER_CLASS, steps=20)
    negative = q.negative_prompt_effect(pipe, QUALITY_PER_CLASS // 2, steps=20)
    return {
        "note": f"DDIM 20 steps, {QUALITY_PER_CLASS} images per class, data set and scale, seed 0",
        "curve": [{k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(p).items()} for p in curve],
        "negative_prompt": [
            {
                "dataset": e.dataset,
                "scale": e.scale,
                "share_without": round(e.share_without, 4),
                "share_with": round(e.share_with, 4),
            }
            for e in negative
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _gpu() -> dict:
    import torch

    from core.hub import hub_status

    if not torch.cuda.is_available():
        return {"skipped": "no CUDA GPU on this machine"}
    if not hub_status().reachable:
        return {"skipped": "the Hugging Face Hub is not reachable, so SD-Turbo and SD 1.5 cannot be loaded"}
    from core import guidance as g
    from core import guidance_run as gr_run

    out = {}
    for key, steps, scale in (("sd-turbo", 1, 0.0), ("sd15", 30, 7.5)):
        loaded = g.load(key)
        settings = g.Settings(
            prompt="a photo of an astronaut riding a horse",
            scale=scale,
            steps=steps,
            batch=1,
            scheduler="Euler ancestral" if key == "sd-turbo" else "DPM++ 2M",
        )
        gr_run.generate(loaded, settings, previews=False)  # warm-up
        torch.cuda.synchronize()
        times = []
        for _ in range(5):
            started = time.perf_counter()
            gr_run.generate(loaded, settings, previews=False)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
        out[key] = {"steps": steps, "median_ms": round(1000 * sorted(times)[2], 1)}
    return out


def run() -> dict:
    return {"tinysd_4_images_20_steps": _speed(), "tinysd_quality": _quality(), "real_sd_gpu": _gpu()}
