"""Request batching (core.guidance_batching): images per second when 1, 4 and 8 users generate at once.

For each mode (batching on, batching off: PLAYGROUND_BATCH_REQUESTS=1 / 0) a fresh local server
starts; then for each number of users, that many gradio_client sessions each request one TinySD
image (20 guided DDIM steps, scale 5, its own seed) again and again for WINDOW_S seconds, as a
lecture hall would. Reported per mode and number of users: images finished, images per second
(finished images over the time until the last finished), median and largest latency of a request,
and the share of requests that were sampled together with others.

Batching is on by default only on a GPU, where one call of 8 images costs about what one image
does; this section measures what it gives on the machine it runs on (on a 2-core CPU, TinySD
still gains from bigger batches: bench guidance's bare calls, 4 vs 16 images).
"""

from __future__ import annotations

import statistics
import threading
import time

from bench.common import client_options, start_app

WINDOW_S = 20.0
USERS = (1, 4, 8)


def _request(seed: int) -> tuple:
    return ("tinysd", "", "a handwritten seven", "", 5, 0, 20, "DDIM", seed, 1, 0, 1)


def _users(url: str, users: int) -> dict:
    from gradio_client import Client

    clients = [Client(url, **client_options(url, timeout=300)) for _ in range(users)]
    latencies: list[float] = []
    together = []
    finished_at: list[float] = []
    lock = threading.Lock()
    started = time.perf_counter()
    until = started + WINDOW_S

    def user(k: int) -> None:
        seed = 1000 * k
        while time.perf_counter() < until:
            asked = time.perf_counter()
            status = clients[k].predict(*_request(seed), api_name="/guidance_generate")[3]
            done = time.perf_counter()
            with lock:
                latencies.append(done - asked)
                finished_at.append(done)
                together.append("in one batch with" in status)
            seed += 1

    threads = [threading.Thread(target=user, args=(k,)) for k in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = max(finished_at) - started
    return {
        "images": len(latencies),
        "images_per_s": round(len(latencies) / elapsed, 2),
        "median_latency_s": round(statistics.median(latencies), 3),
        "max_latency_s": round(max(latencies), 3),
        "share_sampled_together": round(sum(together) / len(together), 3),
    }


def _mode(batching: bool) -> dict:
    process, url = start_app(PLAYGROUND_BATCH_REQUESTS="1" if batching else "0")
    try:
        from gradio_client import Client

        Client(url, **client_options(url, timeout=300)).predict(
            *_request(0), api_name="/guidance_generate"
        )  # loads the model
        return {f"{n}_users": _users(url, n) for n in USERS}
    finally:
        process.terminate()
        process.wait(timeout=30)


def run() -> dict:
    out = {
        "note": f"TinySD, 1 image per request, 20 DDIM steps with guidance, each user repeating for {WINDOW_S:g} s",
        "batching_on": _mode(True),
        "batching_off": _mode(False),
    }
    out["speedup_images_per_s"] = {
        key: round(out["batching_on"][key]["images_per_s"] / out["batching_off"][key]["images_per_s"], 2)
        for key in out["batching_on"]
    }
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
