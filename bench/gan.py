"""GAN figures: training steps per second, raw and while streaming frames as the tab does, for the
2-D GAN and the image DCGAN; and how fast the shipped DCGAN snapshots draw."""

from __future__ import annotations

import time

RAW_BUDGET = 300.0  # the bound: training steps per second while streaming, 2-core CPU
DCGAN_BUDGET = 15.0  # DCGAN training steps per second at batch 64, 2-core CPU
SECONDS = 5.0
DCGAN_STREAM_SECONDS = 12.0  # long enough to include the tab's scoring (every 5 s)


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


def _dcgan() -> dict:
    from bench.common import time_ms
    from core.dcgan import DCGAN, DCGANConfig
    from tabs import gan_images

    gan = DCGAN(DCGANConfig())  # the tab's defaults: MNIST, non-saturating, Adam 2e-4, batch 64
    for _ in range(10):
        gan.train_step()
    started, steps = time.perf_counter(), 0
    while time.perf_counter() - started < SECONDS:
        gan.train_step()
        steps += 1
    raw = steps / (time.perf_counter() - started)

    stream = gan_images.play_live(None, "mnist", "non-saturating", 2e-4, 0)
    session, *_ = next(stream)
    started, frames = time.perf_counter(), 0
    for _ in stream:
        frames += 1
        if time.perf_counter() - started >= DCGAN_STREAM_SECONDS:
            gan_images.pause_live(session)
    seconds = time.perf_counter() - started
    streaming = {
        "frames_per_second": round(frames / seconds, 2),
        "steps_per_second": round(session.gan.step / seconds, 1),
        "seconds": round(seconds, 1),
    }
    return {
        "config": "tab defaults: MNIST subset, non-saturating, Adam 2e-4 (beta1 0.5), width 32, batch 64",
        "parameters": {
            "generator": sum(p.numel() for p in gan.generator.parameters()),
            "discriminator": sum(p.numel() for p in gan.discriminator.parameters()),
        },
        "raw_steps_per_second": round(raw, 1),
        "streaming": streaming,
        "streaming_overhead_ratio": round(raw / max(streaming["steps_per_second"], 1e-9), 2),
        "budget_steps_per_second": DCGAN_BUDGET,
        "within_budget": raw >= DCGAN_BUDGET,
        "grid_of_64": time_ms(gan.grid, repeats=20),
        "score_500_samples": time_ms(gan.measure, repeats=5),
        "shipped_snapshot_view": time_ms(lambda: gan_images.show_snapshot("mnist", 7, 0), repeats=10),
    }


def run() -> dict:
    from core.device import describe
    from core.gan2d import GANConfig

    config = GANConfig()  # the tab's defaults: 8 Gaussians, non-saturating, MLPs 2 x 64, batch 128
    raw = _raw_rate(config)
    streaming = _streaming(config)
    return {
        "device": describe().summary + " (2-D GAN training uses one thread: core.device.single_cpu_thread)",
        "dcgan": _dcgan(),
        "config": "tab defaults: 8gaussians, non-saturating, Adam 1e-3, 2 x 64 MLPs, batch 128, 1 D step",
        "raw_steps_per_second": round(raw, 1),
        "streaming": streaming,
        "streaming_overhead_ratio": round(raw / max(streaming["steps_per_second"], 1e-9), 2),
        "budget_steps_per_second_streaming": RAW_BUDGET,
        "within_budget": streaming["steps_per_second"] >= RAW_BUDGET,
        "frames_budget_per_second": 10,
        "frames_within_budget": streaming["frames_per_second"] >= 10,
    }
