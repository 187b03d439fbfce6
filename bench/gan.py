"""GAN figures: 2-D training steps per second, raw and while streaming frames as the tab does."""

from __future__ import annotations

import time

RAW_BUDGET = 300.0  # the bound: training steps per second while streaming, 2-core CPU
SECONDS = 5.0


def _raw_rate(config) -> float:
    from core.device import single_cpu_thread
    from core.gan2d import GAN2D

    gan = GAN2D(config)
    for _ in range(20):
        gan.train_step()
    with single_cpu_thread():
        started, steps = time.perf_counter(), 0
        while time.perf_counter() - started < SECONDS:
            gan.train_step()
            steps += 1
    return steps / (time.perf_counter() - started)


def _streaming(config) -> dict:
    """The tab's own Play loop (tabs.gan.play), consumed as fast as a browser would take it."""
    from tabs.gan import pause, play, setting_values

    settings = setting_values(config)
    layers = ["surface", "manifold", "real", "fake", "arrows"]
    stream = play(None, layers, False, None, *settings)
    session, *_ = next(stream)
    started, frames = time.perf_counter(), 0
    for _ in stream:
        frames += 1
        if time.perf_counter() - started >= SECONDS:
            pause(session)
    seconds = time.perf_counter() - started
    return {"frames_per_second": round(frames / seconds, 1), "steps_per_second": round(session.gan.step / seconds, 1)}


def run() -> dict:
    from core.device import describe
    from core.gan2d import GANConfig

    config = GANConfig()  # the tab's defaults: 8 Gaussians, non-saturating, MLPs 2 x 64, batch 128
    raw = _raw_rate(config)
    streaming = _streaming(config)
    return {
        "device": describe().summary + " (2-D GAN training uses one thread: core.device.single_cpu_thread)",
        "config": "tab defaults: 8gaussians, non-saturating, Adam 1e-3, 2 x 64 MLPs, batch 128, 1 D step",
        "raw_steps_per_second": round(raw, 1),
        "streaming": streaming,
        "streaming_overhead_ratio": round(raw / max(streaming["steps_per_second"], 1e-9), 2),
        "budget_steps_per_second_streaming": RAW_BUDGET,
        "within_budget": streaming["steps_per_second"] >= RAW_BUDGET,
        "frames_budget_per_second": 10,
        "frames_within_budget": streaming["frames_per_second"] >= 10,
    }
