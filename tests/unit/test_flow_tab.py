"""The flow-matching tab's handlers (tabs.flow_handlers), driven directly without a server: live training and
its Stop, reflow, sampling and scrubbing, the solvers chart, the race against diffusion, bad input.

Every test that trains gets its own live-training line, never the server-wide one; the side-by-side's
diffusion model trains for a few hundred iterations only.
"""

from __future__ import annotations

import json
import math
import threading
import time

import gradio as gr
import pytest
from gradio.components.plot import PlotData

from core.flow2d import Flow2D
from core.live_slots import TrainingSlots
from tabs import flow_handlers as handlers

TRAIN = ("8gaussians", "independent", 300, 0)  # dataset, coupling, iterations, seed


@pytest.fixture
def line(monkeypatch) -> TrainingSlots:
    """A fresh live-training line in place of the server-wide one."""
    slots = TrainingSlots()
    monkeypatch.setattr(handlers, "LIVE_TRAINING", slots)
    return slots


def status_of(frame) -> str:
    return frame[-1]


def traces(figure: PlotData) -> list[dict]:
    return json.loads(figure.plot)["data"]


@pytest.fixture(scope="module")
def training() -> tuple[list, TrainingSlots]:
    """Every frame of one short training run (300 iterations, independent pairs), and the line it trained in."""
    slots = TrainingSlots()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handlers, "LIVE_TRAINING", slots)
        frames = list(handlers.train(None, *TRAIN))
    return frames, slots


@pytest.fixture(scope="module")
def trained(training) -> handlers.FlowSession:
    return training[0][-1][0]


@pytest.fixture(scope="module")
def comparing(trained) -> list:
    """Every frame of one side-by-side with flow and diffusion (5 steps; a short diffusion training)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handlers, "COMPARE_ITERATIONS", 300)
        patch.setattr(handlers, "COMPARE_STEPS", (1, 4))
        return list(handlers.compare(trained, 5, 3))


# --- training ---


def test_train_streams_losses_then_asks_for_sample(training):
    frames, slots = training
    assert status_of(frames[0]) == "Starting…"
    losses = [f for f in frames if status_of(f).startswith("Iteration")]
    assert losses and all(isinstance(f[1], PlotData) for f in losses)
    assert status_of(frames[-1]).endswith("Now press Sample.")
    assert isinstance(frames[-1][1], PlotData)
    session = frames[-1][0]
    assert isinstance(session, handlers.FlowSession) and session.model.iteration == 300
    assert (slots.running, slots.waiting) == (0, 0)  # the slot is given back


def test_training_again_with_the_same_settings_continues_the_same_flow(line):
    session = list(handlers.train(None, "moons", "independent", 50, 1))[-1][0]
    model = session.model
    frames = list(handlers.train(session, "moons", "independent", 50, 1))
    assert session.model is model and model.iteration == 100 and session.previous is None
    assert status_of(frames[-1]).endswith("Now press Sample.")


def test_reflow_learns_from_the_flow_trained_before(trained, line):
    session = handlers.FlowSession(model=trained.model)
    teacher = trained.model
    frames = list(handlers.train(session, "8gaussians", "reflow", 100, 0))
    assert status_of(frames[-1]).endswith("Now press Sample.")
    assert isinstance(session.model, Flow2D) and session.model.config.coupling == "reflow"
    assert session.model.teacher is teacher and session.previous is teacher
    assert session.model.iteration == 100
    assert (line.running, line.waiting) == (0, 0)


def test_reflow_as_the_first_training_is_refused(line):
    with pytest.raises(gr.Error, match="train"):
        list(handlers.train(None, "8gaussians", "reflow", 100, 0))
    assert (line.running, line.waiting) == (0, 0)


def test_stop_ends_training_early(line):
    stream = handlers.train(None, "8gaussians", "independent", 10_000, 0)
    session = next(stream)[0]  # "Starting…": the stream stays open
    threading.Timer(0.3, handlers.stop, args=(session,)).start()  # what the Stop button does
    started = time.perf_counter()
    frames = list(stream)
    assert time.perf_counter() - started < 10
    assert session.model.iteration < 10_000
    # "Now press Sample" only once a loss was recorded (Stop may come before the first report)
    assert status_of(frames[-1]).endswith("Now press Sample.") == bool(session.model.history)
    assert (line.running, line.waiting) == (0, 0)


@pytest.mark.parametrize(
    "settings",
    [
        ("8gaussians", "independent", math.nan, 0),
        ("8gaussians", "independent", "abc", 0),
        ("8gaussians", "independent", 100, -1),
        ("8gaussians", "nope", 100, 0),
        ("drawn", "independent", 100, 0),
        ("galaxy", "independent", 100, 0),
    ],
    ids=repr,
)
def test_train_refuses_bad_input_before_any_frame(settings, line):
    with pytest.raises(gr.Error):
        next(handlers.train(None, *settings))
    assert (line.running, line.waiting) == (0, 0)


# --- sampling and scrubbing ---


@pytest.mark.parametrize("session", [None, handlers.FlowSession()], ids=["no session", "untrained"])
def test_sample_before_training_is_refused(session):
    with pytest.raises(gr.Error, match="Train"):
        handlers.sample(session, "euler", 20, 0, True)


def test_sample_shows_particles_a_slider_and_the_readouts(trained):
    session, figure, slider, status, densities = handlers.sample(trained, "midpoint", 12, 0, True)
    assert session is trained
    assert isinstance(figure, PlotData) and isinstance(densities, PlotData)
    assert slider["__type__"] == "update" and slider["maximum"] == 12 and slider["value"] == 12
    assert "Straightness" in status and "MMD" in status and "24 network evaluations" in status
    assert len(session.path) == 13 and session.path[-1].shape == (handlers.PARTICLES, 2)


@pytest.mark.parametrize(("solver", "steps"), [("heun", 20), ("euler", 0), ("euler", 5_000), ("rk4", "x")], ids=repr)
def test_sample_refuses_bad_settings(trained, solver, steps):
    with pytest.raises(gr.Error):
        handlers.sample(trained, solver, steps, 0, False)


def test_sample_refuses_a_bad_seed(trained):
    with pytest.raises(gr.Error):
        handlers.sample(trained, "euler", 5, -1, False)


def test_scrub_from_noise_to_data(trained):
    handlers.sample(trained, "euler", 10, 0, False)
    figure, status = handlers.scrub(trained, 0, True)
    assert isinstance(figure, PlotData) and "t = 0.00" in status
    assert "Straightness" in status and "MMD to the data" in status  # the run's read-outs stay while scrubbing
    assert any(t["name"].startswith("velocity at t = 0.00") for t in traces(figure))
    figure, status = handlers.scrub(trained, 10, False)
    assert isinstance(figure, PlotData) and "t = 1.00" in status
    assert not any(t["name"].startswith("velocity") for t in traces(figure))
    _, status = handlers.scrub(trained, 99, False)  # clamped to the run
    assert "t = 1.00" in status


@pytest.mark.parametrize("kind", ["no session", "no model", "not sampled"])
def test_scrub_before_sampling_says_what_to_do(trained, kind):
    session = {
        "no session": None,
        "no model": handlers.FlowSession(),
        "not sampled": handlers.FlowSession(model=trained.model),
    }[kind]
    update, status = handlers.scrub(session, 0, True)
    assert update == gr.update() and "Sample" in status


# --- the solvers chart ---


def test_solvers_chart_has_a_line_per_solver(trained):
    figure = handlers.solvers_chart(trained, 0)
    assert isinstance(figure, PlotData)
    lines = traces(figure)
    assert len(lines) == 3
    assert [len(line["x"]) for line in lines] == [6, 6, 6]


def test_solvers_chart_before_training_is_refused():
    with pytest.raises(gr.Error):
        handlers.solvers_chart(handlers.FlowSession(), 0)


# --- flow vs diffusion ---


def test_compare_first_trains_the_diffusion_model(comparing):
    first = comparing[0]
    assert "Training" in status_of(first)
    assert all(part == gr.update() for part in first[1:4])


def test_compare_ends_with_both_runs_from_the_same_noise(trained, comparing):
    session, left, right, curves, note = comparing[-1]
    assert session is trained and session.diffusion is not None
    assert session.diffusion.iteration == 300
    assert isinstance(left, PlotData) and isinstance(right, PlotData)
    assert "same" in note and "differ!" not in note
    lines = traces(curves)
    assert len(lines) == 2
    assert all(line["x"] == [1, 4] for line in lines)


def test_compare_again_reuses_the_diffusion_model(trained, comparing, monkeypatch):
    monkeypatch.setattr(handlers, "COMPARE_STEPS", (1,))
    diffusion = trained.diffusion
    frames = list(handlers.compare(trained, 2, 0))
    assert len(frames) == 1 and trained.diffusion is diffusion
    assert "differ!" not in status_of(frames[-1])


@pytest.mark.parametrize("steps", [0, 500, math.nan, "x"], ids=repr)
def test_compare_refuses_a_step_count_out_of_range(trained, steps):
    with pytest.raises(gr.Error):
        next(handlers.compare(trained, steps, 0))


def test_compare_before_training_is_refused():
    with pytest.raises(gr.Error):
        next(handlers.compare(None, 5, 0))


# --- the session's end ---


def test_close_session_drops_the_models(trained):
    session = handlers.FlowSession(model=trained.model, previous=trained.model, diffusion=trained.diffusion)
    handlers.close_session(session)
    assert session.model is None and session.previous is None and session.diffusion is None
    assert session.stop.is_set()
    handlers.close_session(None)  # a session that never trained
