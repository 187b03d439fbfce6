"""The diffusion tab's handlers (tabs.diffusion_handlers), driven directly without a server: the forward
process, image timelines (sample, scrub, branch, GIF), bad input, the live 2-D model, the quality chart.

The shipped DDPM is replaced by a narrow untrained UNet with a seeded output layer (the handlers'
logic does not depend on how well it denoises); every test that trains gets its own live-training
line, never the server-wide one.
"""

from __future__ import annotations

import json
import math
import threading
import time

import gradio as gr
import numpy as np
import pytest
import torch
from gradio.components.plot import PlotData

from core import diffusion
from core import diffusion_models as dm
from core.denoisers import DenoiserConfig, UNet
from core.live_slots import TrainingSlots
from tabs import diffusion_handlers as handlers
from tabs import exports

RUN = ("mnist", "mixed", "ddim", 10, 0.0, 0, 4)  # dataset, class, sampler, steps, eta, seed, batch


@pytest.fixture(scope="module")
def model() -> dm.ShippedDDPM:
    unet = UNet(DenoiserConfig(channels=(8, 8, 8), embedding=32, groups=4)).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # the fresh output layer is zero ("predict no noise"): make it say something
        unet.conv_out.weight.copy_(0.1 * torch.randn(unet.conv_out.weight.shape, generator=generator))
    return dm.ShippedDDPM(key="test", dataset="mnist", unet=unet, schedule=diffusion.make_schedule("cosine"), card={})


@pytest.fixture(autouse=True)
def shipped(monkeypatch, model):
    """The handlers' dm.shipped(dataset) returns the small model."""
    monkeypatch.setattr(dm, "shipped", lambda dataset: model)


@pytest.fixture(autouse=True)
def exports_in_tmp(monkeypatch, tmp_path):
    monkeypatch.setattr(exports, "EXPORT_DIR", tmp_path / "exports")


@pytest.fixture
def line(monkeypatch) -> TrainingSlots:
    """A fresh live-training line in place of the server-wide one."""
    slots = TrainingSlots()
    monkeypatch.setattr(handlers, "LIVE_TRAINING", slots)
    return slots


def status_of(frame) -> str:
    return frame[-1]


def sampled(*settings) -> tuple[handlers.DiffusionSession, list]:
    """Run sample_images to the end; its session and every frame."""
    frames = list(handlers.sample_images(None, *(settings or RUN)))
    return frames[-1][0], frames


@pytest.fixture(scope="module")
def training_2d() -> tuple[list, TrainingSlots]:
    """Every frame of one short 2-D training run (500 iterations on "moons"), and the line it trained in."""
    slots = TrainingSlots()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handlers, "LIVE_TRAINING", slots)
        frames = list(handlers.train_2d(None, "moons", "cosine", 500, 0))
    return frames, slots


@pytest.fixture(scope="module")
def trained_2d(training_2d) -> handlers.DiffusionSession:
    return training_2d[0][-1][0]


# --- the forward process ---


def test_forward_view_shows_a_picture_and_the_schedules():
    picture, figure = handlers.forward_view("mnist", 0, 500)
    assert isinstance(picture, np.ndarray) and picture.dtype == np.uint8
    assert picture.ndim == 2 or (picture.ndim == 3 and picture.shape[2] == 3)
    assert isinstance(figure, PlotData)


@pytest.mark.parametrize(("index", "t"), [(1_000, 500), (-1, 500), (0, 1_000), (0, -1), ("x", 5)], ids=repr)
def test_forward_view_refuses_an_image_or_t_out_of_range(index, t):
    with pytest.raises(gr.Error):
        handlers.forward_view("mnist", index, t)


# --- sampling a timeline ---


def test_sampling_streams_pictures_slider_updates_and_status():
    _, frames = sampled()
    assert len(frames) >= 2  # the first step at once, the end at least
    for session, picture, slider, status in frames:
        assert isinstance(session, handlers.DiffusionSession)
        assert isinstance(picture, np.ndarray) and picture.dtype == np.uint8
        assert slider["__type__"] == "update" and slider["maximum"] == 10
        assert isinstance(status, str)
    assert status_of(frames[0]).startswith("Step 1 of 10")


def test_sampling_ends_with_done_and_a_finished_timeline():
    session, frames = sampled()
    assert status_of(frames[-1]).startswith("Done")
    assert frames[-1][2]["value"] == 10
    assert session.timeline.done and len(session.timeline.kept) == 10
    assert session.timeline.labels.tolist() == [0, 1, 2, 3]  # "mixed": 0..9 in turn
    assert session.branch is None


def test_sampling_again_keeps_the_session_and_drops_the_old_branch():
    session, _ = sampled()
    list(handlers.branch(session, 3, "ddim", 2, 0.0, 0))
    frames = list(handlers.sample_images(session, *RUN))
    assert frames[-1][0] is session
    assert session.branch is None


def test_scrub_shows_the_kept_step_and_its_timestep():
    session, _ = sampled()
    picture, status = handlers.scrub(session, 4)
    assert isinstance(picture, np.ndarray) and picture.dtype == np.uint8
    assert f"Step 4 of 10: t = {session.timeline.kept[3].t}" in status


def test_scrub_clamps_the_step_to_the_run():
    session, _ = sampled()
    _, status = handlers.scrub(session, 99)
    assert status.startswith("Step 10 of 10")


@pytest.mark.parametrize("session", [None, handlers.DiffusionSession()], ids=["no session", "no run"])
def test_scrub_before_a_run_says_what_to_do(session):
    picture, status = handlers.scrub(session, 1)
    assert picture == gr.update()
    assert "Run the sampler" in status


BAD_SAMPLING = [
    ("mnist", -1, "heun", 10, 0.0, 0, 4),
    ("mnist", -1, "ddim", 0, 0.0, 0, 4),
    ("mnist", -1, "ddim", 5_000, 0.0, 0, 4),
    ("mnist", -1, "ddim", 10, 2.0, 0, 4),
    ("mnist", -1, "ddim", 10, math.nan, 0, 4),
    ("mnist", -1, "ddim", 10, 0.0, -1, 4),
    ("mnist", -1, "ddim", 10, 0.0, 0, 0),
    ("mnist", "12", "ddim", 10, 0.0, 0, 4),
]


@pytest.mark.parametrize("settings", BAD_SAMPLING, ids=repr)
def test_sampling_refuses_bad_input_before_any_frame(settings):
    stream = handlers.sample_images(None, *settings)
    with pytest.raises(gr.Error):
        next(stream)


# --- branches ---


@pytest.mark.parametrize("session", [None, handlers.DiffusionSession()], ids=["no session", "no run"])
def test_branch_before_a_run_is_refused(session):
    with pytest.raises(gr.Error):
        next(handlers.branch(session, 3, "ddpm", 5, 0.0, 0))


def test_branch_streams_and_ends_with_both_runs():
    session, _ = sampled()
    frames = list(handlers.branch(session, 3, "ddpm", 5, 0.0, 0))
    for frame_session, picture, _status in frames:
        assert frame_session is session
        assert isinstance(picture, np.ndarray) and picture.dtype == np.uint8
    last = status_of(frames[-1])
    assert session.timeline.describe() in last and session.branch.describe() in last
    assert "DDIM" in last and "DDPM" in last


def test_branch_starts_from_the_chosen_step():
    session, _ = sampled()
    list(handlers.branch(session, 3, "ddpm", 5, 0.0, 0))
    assert session.branch.done
    assert session.branch.branched_from == (2, session.timeline.kept[2].t)
    assert torch.equal(session.branch.kept[0].x_t, session.timeline.kept[2].x_t)


@pytest.mark.parametrize(("step", "steps"), [(0, 5), (11, 5), (10, 500), (3, 0)], ids=repr)
def test_branch_refuses_a_step_or_step_count_out_of_range(step, steps):
    session, _ = sampled()
    with pytest.raises(gr.Error):
        next(handlers.branch(session, step, "ddpm", steps, 0.0, 0))


# --- the GIF ---


def test_export_gif_writes_a_gif_named_after_the_run():
    session, _ = sampled()
    path = handlers.export_gif(session)
    with open(path, "rb") as handle:
        assert handle.read(4) == b"GIF8"
    name = path.rsplit("/", 1)[-1]
    assert "ddim" in name and "10steps" in name


def test_export_gif_before_a_run_is_refused():
    with pytest.raises(gr.Error):
        handlers.export_gif(handlers.DiffusionSession())


# --- the live 2-D model ---


def test_train_2d_streams_losses_then_asks_for_sample(training_2d):
    frames, line = training_2d
    assert status_of(frames[0]) == "Starting…"
    losses = [f for f in frames if status_of(f).startswith("Iteration")]
    assert losses and all(isinstance(f[1], PlotData) for f in losses)
    assert status_of(frames[-1]).endswith("Now press Sample.")
    assert frames[-1][0].model2d.iteration == 500
    assert (line.running, line.waiting) == (0, 0)  # the slot is given back


@pytest.mark.parametrize(
    "settings",
    [
        ("drawn", "cosine", 500, 0),
        ("moons", "quadratic", 500, 0),
        ("nowhere", "cosine", 500, 0),
        ("moons", "cosine", 500, -1),
    ],
    ids=repr,
)
def test_train_2d_refuses_bad_input_before_any_frame(settings, line):
    with pytest.raises(gr.Error):
        next(handlers.train_2d(None, *settings))
    assert (line.running, line.waiting) == (0, 0)


def test_stop_2d_ends_training_early(line):
    stream = handlers.train_2d(None, "moons", "cosine", 10_000, 0)
    first_loss = next(frame for frame in stream if status_of(frame).startswith("Iteration"))  # stream stays open
    session = first_loss[0]
    threading.Timer(0.2, handlers.stop_2d, args=(session,)).start()  # what the Stop button does
    started = time.perf_counter()
    frames = list(stream)
    assert time.perf_counter() - started < 5
    assert session.model2d.iteration < 10_000
    assert status_of(frames[-1]).endswith("Now press Sample.")
    assert line.running == 0


def test_sample_2d_before_training_is_refused():
    with pytest.raises(gr.Error):
        handlers.sample_2d(handlers.DiffusionSession(), "ddim", 20, 0.0, 0, True)


def test_sample_2d_shows_particles_a_slider_and_the_mmd(trained_2d):
    session, figure, slider, status = handlers.sample_2d(trained_2d, "ddim", 20, 0, 0, True)
    assert session is trained_2d
    assert isinstance(figure, PlotData)
    assert slider["maximum"] == 20 and slider["value"] == 20
    assert "MMD" in status
    assert len(session.kept2d) == 20 and session.final2d.shape == (500, 2)


@pytest.mark.parametrize(("sampler", "steps", "eta"), [("heun", 20, 0), ("ddim", 0, 0), ("ddim", 20, 3)], ids=repr)
def test_sample_2d_refuses_bad_settings(trained_2d, sampler, steps, eta):
    with pytest.raises(gr.Error):
        handlers.sample_2d(trained_2d, sampler, steps, eta, 0, False)


def test_scrub_2d_from_the_start_to_the_end(trained_2d):
    handlers.sample_2d(trained_2d, "ddim", 20, 0, 0, False)
    figure, status = handlers.scrub_2d(trained_2d, 0, True)
    assert isinstance(figure, PlotData) and "step 0" in status and "t = 999" in status
    figure, status = handlers.scrub_2d(trained_2d, 20, False)
    assert isinstance(figure, PlotData) and "the end" in status


def test_scrub_2d_before_sampling_says_what_to_do():
    update, status = handlers.scrub_2d(handlers.DiffusionSession(), 0, True)
    assert update == gr.update() and "Sample" in status


# --- the quality chart ---


def test_quality_chart_without_measurements_points_at_the_benchmark(monkeypatch, tmp_path):
    monkeypatch.setattr(dm, "QUALITY_TABLE", tmp_path / "missing.json")
    figure, message = handlers.quality_chart()
    assert figure is None and "bench" in message


def test_quality_chart_plots_the_measurements(monkeypatch, tmp_path):
    table = tmp_path / "diffusion-quality.json"
    row = {"sampler": "ddim", "steps": 5, "class_accuracy": 0.5, "fd_classifier": 100.0, "seconds": 1.0}
    table.write_text(json.dumps({"dataset": "mnist", "samples": 10, "note": "x", "fd_floor": 6.6, "rows": [row]}))
    monkeypatch.setattr(dm, "QUALITY_TABLE", table)
    figure, message = handlers.quality_chart()
    assert isinstance(figure, PlotData)
    assert "6.6" in message
