"""Request batching of the guidance tab's Generate (PLAYGROUND_BATCH_REQUESTS=1, the default on a GPU),
through a server of its own: requests that wait at the same time are sampled in one pipeline call,
and each user still gets exactly their own images, streamed steps, run and step inspector."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from gradio_client.exceptions import AppError
from PIL import Image

from tests.conftest import local_client, serve_app

USERS = 4


@pytest.fixture(scope="module")
def batching_url(artifacts_dir):
    with serve_app(artifacts_dir / "app-server-batching.log", PLAYGROUND_BATCH_REQUESTS="1") as url:
        yield url


def request(seed: int, prompt: str = "a handwritten seven") -> tuple:
    return ("tinysd", "", prompt, "", 5, 0, 20, "DDIM", seed, 2, 0, 1)


def test_waiting_requests_share_a_pipeline_call_and_keep_their_own_images(batching_url):
    clients = [local_client(batching_url) for _ in range(USERS)]
    results: dict[int, tuple] = {}
    updates: dict[int, list] = {}

    def user(k: int) -> None:
        prompt = "a photo of a sneaker" if k % 2 else "a handwritten seven"
        updates[k] = list(clients[k].submit(*request(10 * k, prompt), api_name="/guidance_generate"))
        results[k] = updates[k][-1]

    threads = [threading.Thread(target=user, args=(k,)) for k in range(USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(results) == USERS
    statuses = [results[k][3] for k in range(USERS)]
    assert all(s.startswith("Done in") for s in statuses), statuses
    assert any("in one batch with" in s for s in statuses), statuses  # the first may run alone; the rest wait together
    for k in range(USERS):
        assert f"seed {10 * k}" in statuses[k]
        strip = Image.open(results[k][1])
        assert strip.size[0] > strip.size[1]
        assert any(u[3].startswith("Step ") for u in updates[k][:-1])  # steps streamed before the result

    # the same request alone gives the same images (up to float rounding: batch size changes it)
    alone = local_client(batching_url).predict(*request(30, "a photo of a sneaker"), api_name="/guidance_generate")
    assert "in one batch" not in alone[3]
    batched, single = (np.asarray(Image.open(r[0]).convert("L"), dtype=int) for r in (results[3], alone))
    assert batched.shape == single.shape and np.abs(batched - single).max() <= 3

    # each session's run is its own: the inspector reads the run of the client that asked
    picture, note = clients[1].predict("tinysd", "", 5, api_name="/guidance_inspect")
    assert note.startswith("Step 5 of 20") and "seed 10" in note


def test_a_bad_request_gets_its_message_and_the_next_one_runs(batching_url):
    client = local_client(batching_url)
    with pytest.raises(AppError, match="10,000 characters long"):
        client.predict(*request(0, "x" * 10_000), api_name="/guidance_generate")
    assert client.predict(*request(1), api_name="/guidance_generate")[3].startswith("Done in")
