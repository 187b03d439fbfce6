"""The image GAN endpoints through gradio_client: the shipped snapshots, a live run, and the line of live trainings."""

from __future__ import annotations

import json
import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from core.dcgan import SNAPSHOT_STEPS
from core.gan2d import GANConfig
from core.live_slots import CAPACITY
from tabs.gan import setting_values
from tests.conftest import local_client

LIVE = ["mnist", "non-saturating", 2e-4, 0]  # data set, loss, learning rate, seed


@pytest.fixture
def client(app_url) -> Client:
    return local_client(app_url)  # one session per test: each live GAN lives in its session


def _size(path: str) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def _wait_for(job, predicate, seconds: float = 60.0):
    """The first streamed output satisfying `predicate`, waiting up to `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for output in job.outputs():
            if predicate(output):
                return output
        time.sleep(0.1)
    raise AssertionError(f"no matching output in {seconds} s; last: {job.outputs()[-1:]}")


def _finish(job, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not job.done() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.done(), f"the run did not end within {seconds} s of Pause"


def test_every_shipped_snapshot_draws_with_its_measured_score(client):
    fds = []
    for index in (0, len(SNAPSHOT_STEPS) - 1):
        grid, plot, status = client.predict("mnist", index, 0, api_name="/dcgan_snapshot")
        assert _size(grid) == (3 * (8 * 30 + 2),) * 2  # 8 x 8 images of 28 px with 2 px gaps, 3x
        figure = json.loads(plot["plot"])
        assert figure["data"][0]["customdata"] == list(SNAPSHOT_STEPS)
        assert f"**Step {SNAPSHOT_STEPS[index]:,}**" in status
        fds.append(float(status.split("FD-classifier ")[1].split()[0]))
    assert fds[1] < fds[0] / 3, "the trained generator should score far better than the untrained one"


def test_fashion_snapshots_and_bad_input(client):
    *_, status = client.predict("fashion", 3, 7, api_name="/dcgan_snapshot")
    assert f"**Step {SNAPSHOT_STEPS[3]:,}**" in status
    with pytest.raises(AppError, match="seed"):
        client.predict("mnist", 3, -5, api_name="/dcgan_snapshot")


def test_live_run_streams_the_grid_and_scores_until_pause(client):
    job = client.submit(*LIVE, api_name="/dcgan_play")
    _wait_for(job, lambda out: out[-1].startswith("Step") and "Training" in out[-1] and int(_step(out[-1])) > 5)
    client.predict(api_name="/dcgan_pause")
    _finish(job)
    grid, plot, status = job.outputs()[-1]
    assert status.endswith("Paused.") and "FD-classifier" in status
    assert _size(grid) == (726, 726)
    names = {trace.get("name") for trace in json.loads(plot["plot"])["data"]}
    assert {"D loss", "G loss", "FD-classifier (lower is better)"} <= names


def _step(status: str) -> str:
    return status.split()[1].rstrip(".").replace(",", "")


def test_bad_live_settings_get_a_clear_message(client):
    with pytest.raises(AppError, match="learning rate"):
        client.predict("mnist", "non-saturating", 0.5, 0, api_name="/dcgan_reset")
    *_, status = client.predict(*LIVE, api_name="/dcgan_reset")
    assert status.startswith("Step 0.")


def test_past_the_live_training_capacity_a_run_waits_and_is_told_its_place(app_url):
    """CAPACITY runs train; the next one (any tab) shows 'Busy … number 1 in line', then starts when one ends."""
    gan_settings = setting_values(GANConfig())
    layers = ["real", "fake"]
    runners = [local_client(app_url) for _ in range(CAPACITY)]
    jobs = [c.submit(layers, False, None, *gan_settings, api_name="/gan_play") for c in runners]
    try:
        for job in jobs:
            _wait_for(job, lambda out: "Playing" in out[-1] or ("Step" in out[-1] and "Busy" not in out[-1]))
        waiting = local_client(app_url)
        late = waiting.submit(*LIVE, api_name="/dcgan_play")
        busy = _wait_for(late, lambda out: "Busy" in out[-1])
        assert "number 1 in line" in busy[-1]
        runners[0].predict(api_name="/gan_pause")  # a slot frees: the waiting run starts by itself
        _wait_for(late, lambda out: "Training" in out[-1], seconds=30)
        waiting.predict(api_name="/dcgan_pause")
        _finish(late)
    finally:
        for runner in runners:
            runner.predict(api_name="/gan_pause")
    for job in jobs:
        _finish(job)
