"""Request batching (core.guidance_batching) on a TinySD-shaped pipeline with random weights: waiting
requests share a pipeline call, each keeps its own prompt, seeds and images, and streams its own steps."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
import torch

from core import guidance as g
from core import guidance_batching as batching
from core import guidance_run as gr_run
from tests.unit.test_guidance import SETTINGS, folder, loaded  # noqa: F401 (fixtures)


@pytest.fixture
def held_first_call(monkeypatch):
    """The first pipeline call waits for `release`, so that the test can queue requests behind it;
    every call's number of images is recorded."""
    release = threading.Event()
    sizes: list[int] = []
    real_call = gr_run.call_pipeline

    def call(pipe, **kwargs):
        sizes.append(len(kwargs["prompt"]))
        if len(sizes) == 1:
            release.wait(timeout=60)
        return real_call(pipe, **kwargs)

    monkeypatch.setattr(gr_run, "call_pipeline", call)
    return release, sizes


def _wait_until(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_waiting_requests_share_one_call_and_get_what_each_gets_alone(loaded, held_first_call):  # noqa: F811
    release, sizes = held_first_call
    batcher = batching.Batcher(loaded)
    requests = {
        "first": replace(SETTINGS, seed=1, batch=1),
        "seven": replace(SETTINGS, seed=3, batch=1),
        "sneaker": replace(SETTINGS, prompt="a photo of a sneaker", negative="a handwritten seven", seed=10, batch=2),
        "another seven": replace(SETTINGS, seed=20, batch=1),
        "other scale": replace(SETTINGS, scale=2.0, seed=5, batch=1),  # cannot share: a call of its own
    }
    runs: dict[str, list] = {}

    def user(name):
        runs[name] = list(batcher.run(requests[name]))

    threads = {name: threading.Thread(target=user, args=(name,)) for name in requests}
    threads["first"].start()
    _wait_until(lambda: len(sizes) == 1)  # the first call runs (held)
    for name in list(requests)[1:]:
        threads[name].start()
    _wait_until(lambda: len(batcher._waiting) == 4)
    release.set()
    for thread in threads.values():
        thread.join(timeout=120)
    assert sizes == [1, 4, 1] and batcher.calls == 3
    for name, settings in requests.items():
        streamed = runs[name]
        final = streamed[-1]
        assert final.done and sum(r is final for r in streamed) >= SETTINGS.steps + 1  # each step, then done
        assert final.requests_in_call == (3 if name in ("seven", "sneaker", "another seven") else 1)
        alone = gr_run.generate(loaded, g.check(settings, loaded))
        assert final.images.shape == alone.images.shape
        assert abs(final.images.astype(int) - alone.images.astype(int)).max() <= 2  # float rounding only
        assert final.steps[-1].preview.shape[0] == settings.batch
        torch.testing.assert_close(final.steps[2].uncond, alone.steps[2].uncond, atol=1e-3, rtol=1e-3)


def test_a_request_cancelled_while_waiting_is_not_sampled(loaded, held_first_call):  # noqa: F811
    release, sizes = held_first_call
    batcher = batching.Batcher(loaded)
    first = threading.Thread(target=lambda: list(batcher.run(replace(SETTINGS, batch=1))))
    first.start()
    _wait_until(lambda: len(sizes) == 1)
    waiting = batcher.run(replace(SETTINGS, seed=7, batch=2))
    assert next(waiting).steps == []  # a quiet yield: still waiting for its call
    assert len(batcher._waiting) == 1
    waiting.close()  # the user left before their turn
    release.set()
    first.join(timeout=60)
    _wait_until(lambda: not batcher._busy)
    assert sizes == [1]


def test_bad_settings_fail_before_queueing(loaded):  # noqa: F811
    batcher = batching.Batcher(loaded)
    with pytest.raises(ValueError, match="guidance scale"):
        next(batcher.run(replace(SETTINGS, scale=99)))
    assert batcher.calls == 0 and not batcher._waiting


def test_every_user_of_a_model_shares_its_batcher(loaded):  # noqa: F811
    assert batching.batcher_for(loaded) is batching.batcher_for(replace(loaded))


def test_a_call_that_cannot_start_fails_its_requests_and_the_next_one_runs(loaded, monkeypatch):  # noqa: F811
    batcher = batching.Batcher(loaded)
    real_start = gr_run.start
    monkeypatch.setattr(gr_run, "start", lambda *a: (_ for _ in ()).throw(RuntimeError("no scheduler")))
    with pytest.raises(RuntimeError, match="no scheduler"):
        list(batcher.run(replace(SETTINGS, batch=1)))
    monkeypatch.setattr(gr_run, "start", real_start)
    assert list(batcher.run(replace(SETTINGS, batch=1)))[-1].done
