"""A lecture hall against one server: simulated students clicking through every tab at once.

    python -m bench load                                  # 50 students, 5 minutes, a fresh local server
    python -m bench.load --students 10 --seconds 60       # a shorter run

Starts `python app.py` on a free local port (or uses --url), then runs one thread per student, each
with its own gradio_client session. A student repeats: think for 1 to 4 seconds, then one action
drawn from the mix below: mostly light ones (tokenize, an attention map, a VAE decode, a noised
image, a GAN snapshot, a step of the session's own 2-D GAN, the guidance curve) and now and then a
heavy one (a 50-step DDIM run of 16 images, a 20-step image flow, 4 TinySD images in 20 guided
steps). Reported: requests, errors (with the first messages), latency percentiles of the light
actions, and for heavy ones their latency and the largest queue position a student was shown while
waiting (Gradio's queue tells every waiting client its place).

The server it starts runs torch with one thread per operation (OMP_NUM_THREADS=1, the README's
lecture-hall setting; --server-threads to change): with two threads, every heavy sampling run
took both cores and light actions waited for them (p95 2.6 s instead of 1.6 s on 2 cores).
The simulated students share the machine with the server, so their own CPU use counts against it
(bench.common.client_options keeps it small).
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from dataclasses import dataclass, field

from bench.common import client_options, start_app
from core.gan2d import GANConfig
from tabs.gan import setting_values

P95_BUDGET_S = 2.0  # light actions, 50 students, 2-core CPU

_GAN_SETTINGS = tuple(setting_values(GANConfig()))  # the 2-D GAN's defaults, in its endpoints' order

# (name, weight, heavy, args, api_name): drawn in proportion to the weights
ACTIONS: list[tuple[str, int, bool, tuple, str]] = [
    (
        "tokenize",
        6,
        False,
        ("The lecture hall is full of students.", ["gpt2", "bert"], "Embedded (offline)", True),
        "/tokenize",
    ),
    ("sample text", 3, False, ("German",), "/sample_text"),
    ("attention map", 5, False, ("The cat sat on the mat because it was tired.", "minilm", 2, 3, None), "/attention"),
    ("next token", 3, False, ("In the beginning God created", "gpt-kjv", 1.0, 0, 1.0), "/next_token"),
    ("VAE decode", 6, False, ("vae-2d-mnist", 0.5, -1.0), "/vae_decode"),
    ("VAE manifold", 2, False, ("vae-2d-fashion", 10, -2.0, 2.0, "linear", 0, 1), "/vae_manifold"),
    ("GAN snapshot", 3, False, ("mnist", 5, 1), "/dcgan_snapshot"),
    ("noised image", 6, False, ("fashion", 17, 400), "/diffusion_forward"),
    ("GAN step", 3, False, (["surface", "real", "fake"], "Both", None, *_GAN_SETTINGS), "/gan_step"),
    ("guidance curve", 2, False, (), "/guidance_curve"),
    ("DDIM 16 images", 1, True, ("mnist", "mixed", "ddim", 50, 0.0, 0, 16), "/diffusion_sample"),
    ("flow 16 images", 1, True, ("fashion", "mixed", "euler", 20, 0, 16), "/flow_images_sample"),
    (
        "TinySD 4 images",
        1,
        True,
        ("tinysd", "", "a handwritten seven", "", 5.0, 0.0, 20, "DDIM", 0, 4, 0, 1.0),
        "/guidance_generate",
    ),
]


@dataclass
class Tally:
    light_seconds: list[float] = field(default_factory=list)
    heavy_seconds: list[float] = field(default_factory=list)
    per_action: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    max_queue_position: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _student(url: str, seed: int, until: float, tally: Tally) -> None:
    from gradio_client import Client

    rng = random.Random(seed)
    weights = [a[1] for a in ACTIONS]
    try:
        client = Client(url, **client_options(url, timeout=120))
    except Exception as err:  # the connection itself failed: that is an error of the run
        with tally.lock:
            tally.errors.append(f"connect: {type(err).__name__}: {err}")
        return
    while time.monotonic() < until:
        time.sleep(rng.uniform(1.0, 4.0))
        name, _, heavy, args, api_name = rng.choices(ACTIONS, weights)[0]
        started = time.perf_counter()
        try:
            job = client.submit(*args, api_name=api_name)
            while not job.done():
                status = job.status()
                rank = getattr(status, "rank", None)
                if rank is not None:
                    with tally.lock:
                        tally.max_queue_position = max(tally.max_queue_position, int(rank) + 1)
                time.sleep(0.1)
            job.result()
        except Exception as err:
            with tally.lock:
                tally.errors.append(f"{name}: {type(err).__name__}: {str(err)[:200]}")
            continue
        seconds = time.perf_counter() - started
        with tally.lock:
            (tally.heavy_seconds if heavy else tally.light_seconds).append(seconds)
            tally.per_action.setdefault(name, []).append(seconds)


def _warm_up(url: str) -> None:
    """Load every model once, so the run measures serving, not first loads."""
    from gradio_client import Client

    client = Client(url, **client_options(url, timeout=300))
    for _, _, _, args, api_name in ACTIONS:
        client.predict(*args, api_name=api_name)


def run_load(students: int = 50, seconds: float = 300, url: str | None = None, server_threads: int = 1) -> dict:
    process = None
    if url is None:
        process, url = start_app(OMP_NUM_THREADS=str(server_threads))
    try:
        _warm_up(url)
        tally = Tally()
        until = time.monotonic() + seconds
        threads = [threading.Thread(target=_student, args=(url, i, until, tally), daemon=True) for i in range(students)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
            time.sleep(0.05)  # students arrive over a few seconds, not in the same millisecond
        for thread in threads:
            thread.join(timeout=seconds + 600)
        wall = time.perf_counter() - started
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    light_p95 = _percentile(tally.light_seconds, 0.95)
    return {
        "students": students,
        "server": url if process is None else f"a fresh local server with OMP_NUM_THREADS={server_threads}",
        "seconds": round(wall, 1),
        "requests": len(tally.light_seconds) + len(tally.heavy_seconds) + len(tally.errors),
        "errors": len(tally.errors),
        "first_errors": tally.errors[:5],
        "light": {
            "count": len(tally.light_seconds),
            "median_s": _percentile(tally.light_seconds, 0.5),
            "p95_s": light_p95,
            "max_s": _percentile(tally.light_seconds, 1.0),
        },
        "heavy": {
            "count": len(tally.heavy_seconds),
            "median_s": _percentile(tally.heavy_seconds, 0.5),
            "max_s": _percentile(tally.heavy_seconds, 1.0),
            "max_queue_position_shown": tally.max_queue_position,
        },
        "per_action_median_s": {
            name: round(statistics.median(values), 3) for name, values in sorted(tally.per_action.items())
        },
        "p95_budget_s": P95_BUDGET_S,
        "within_budget": not tally.errors and light_p95 is not None and light_p95 <= P95_BUDGET_S,
    }


def run() -> dict:  # the benchmark section
    return run_load()


def main(argv: list[str] | None = None) -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument(
        "--server-threads",
        type=int,
        default=1,
        help="torch threads per operation in the server it starts (OMP_NUM_THREADS; default 1, the lecture-hall setting)",
    )
    args = parser.parse_args(argv)
    print(json.dumps(run_load(args.students, args.seconds, args.url, args.server_threads), indent=2))


if __name__ == "__main__":
    main()
