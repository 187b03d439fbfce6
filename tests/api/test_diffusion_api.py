"""The diffusion endpoints through gradio_client: forward process, a kept timeline, scrubbing, a branch, the GIF, 2-D."""

from __future__ import annotations

import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from tests.conftest import local_client

RUN = ["mnist", "mixed", "ddim", 20, 0.0, 0, 4]  # data, class, sampler, steps, eta, seed, images


@pytest.fixture
def client(app_url) -> Client:
    return local_client(app_url)  # one session per test: runs live in session state


def _size(path: str) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def test_forward_process_draws_both_schedules_and_the_plot(client):
    picture, plot = client.predict("mnist", 5, 500, api_name="/diffusion_forward")
    assert _size(picture)[0] > 500
    assert plot["type"] == "plotly"


def test_a_run_keeps_every_step_to_scrub_and_branch_and_export(client):
    session_picture, slider, status = client.predict(*RUN, api_name="/diffusion_sample")
    assert status.startswith("Done: DDIM, 20 steps")
    assert slider["value"] == slider["maximum"] == 20  # the slider, moved to the last kept step
    first_picture, first_status = client.predict(1, api_name="/diffusion_scrub")
    assert "Step 1 of 20: t = 999" in first_status
    late_picture, _ = client.predict(15, api_name="/diffusion_scrub")
    *_, played_to = client.predict(15, api_name="/diffusion_play")  # plays steps 15 .. 20
    assert played_to.startswith("Step 20 of 20")
    assert _size(first_picture) == _size(late_picture) == _size(session_picture)

    comparison, branch_status = client.predict(10, "ddpm", 8, 0.0, 3, api_name="/diffusion_branch")
    assert branch_status.startswith("Left: DDIM, 20 steps") and "branched at step 10" in branch_status
    assert _size(comparison)[0] > _size(first_picture)[0] * 0.5

    gif = client.predict(api_name="/diffusion_gif")
    with open(gif, "rb") as handle:
        assert handle.read(4) == b"GIF8"


def test_the_first_frame_arrives_before_the_run_ends(client):
    job = client.submit("mnist", "any", "ddpm", 200, 0.0, 1, 16, api_name="/diffusion_sample")
    deadline = time.monotonic() + 60
    while not job.outputs() and time.monotonic() < deadline:
        time.sleep(0.02)
    first_status = job.outputs()[0][-1]
    assert first_status.startswith("Step 1 of 200")
    job.result()
    assert job.outputs()[-1][-1].startswith("Done")


@pytest.mark.parametrize(
    "index, value, message",
    [
        (2, "heun", "not in the list of choices|Unknown sampler"),
        (3, 5000, "steps|maximum"),
        (4, 1.5, "eta|maximum"),
        (5, -1, "seed"),
        (6, 0, "images|minimum|batch"),
    ],
)
def test_bad_settings_get_a_clear_message_and_the_next_run_works(client, index, value, message):
    settings = list(RUN)
    settings[index] = value
    with pytest.raises(AppError, match=message):
        client.predict(*settings, api_name="/diffusion_sample")
    *_, status = client.predict(*RUN, api_name="/diffusion_sample")
    assert status.startswith("Done")


def test_branch_before_a_run_is_explained(client):
    with pytest.raises(AppError, match="Run the sampler"):
        client.predict(3, "ddim", 5, 0.0, 0, api_name="/diffusion_branch")


def test_the_2d_model_trains_samples_and_scrubs(client):
    loss_plot, status = client.predict("8gaussians", "cosine", 1000, 0, api_name="/diffusion2d_train")
    assert "Iteration 1,000" in status and loss_plot["type"] == "plotly"
    plot, slider, status = client.predict("ddpm", 50, 0.0, 0, True, api_name="/diffusion2d_sample")
    assert slider["value"] == 50 and "MMD" in status
    plot, status = client.predict(0, True, api_name="/diffusion2d_scrub")
    assert "step 0 of 50, entering t = 999" in status
