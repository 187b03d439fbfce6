"""The image-GAN tab's live handlers (tabs.gan_images), driven directly without a server: Reset, the Play
stream and what ends it (Pause, the time limit, the session closing), the live-training line, bad input.

Every test gets its own live-training line (never the server-wide one) and a narrow DCGAN, so that
a training step takes milliseconds; the handlers' logic does not depend on the network's size.
"""

from __future__ import annotations

import functools
import threading
import time

import gradio as gr
import numpy as np
import pytest

from core import dcgan
from core.live_slots import TrainingSlots
from tabs import gan_images

SETTINGS = ("mnist", "non-saturating", 2e-4, 0)  # dataset, loss, learning rate, seed: the tab's defaults


@pytest.fixture(autouse=True)
def line(monkeypatch) -> TrainingSlots:
    """A fresh live-training line with the usual capacity, in place of the server-wide one."""
    slots = TrainingSlots()
    monkeypatch.setattr(gan_images, "LIVE_TRAINING", slots)
    return slots


@pytest.fixture(autouse=True)
def small_and_fast(monkeypatch):
    """Narrow networks, frequent frames, no scoring in the middle of a run (only at its start and end)."""
    monkeypatch.setattr(dcgan, "DCGANConfig", functools.partial(dcgan.DCGANConfig, width=8, batch_size=16))
    monkeypatch.setattr(gan_images, "FRAME_SECONDS", 0.1)
    monkeypatch.setattr(gan_images, "MEASURE_SECONDS", 1e6)


def status_of(frame) -> str:
    return frame[-1]


def until_training(stream) -> gan_images.ImageGANSession:
    """Advance a Play stream to its first training frame; the session it streams."""
    for frame in stream:
        if "Training" in status_of(frame):
            return frame[0]
    raise AssertionError("the stream ended before training began")


def finish(stream, within: float) -> list:
    started = time.perf_counter()
    frames = list(stream)
    assert time.perf_counter() - started < within
    return frames


# --- Reset ---


def test_reset_gives_a_fresh_dcgan_at_step_0():
    session, grid, _figure, status = gan_images.reset_live(None, *SETTINGS)
    assert isinstance(session.gan, dcgan.DCGAN)
    assert session.gan.step == 0
    assert status.startswith("Step 0.")
    assert "FD-classifier" in status  # the untrained generator is scored at once
    assert isinstance(grid, np.ndarray) and grid.dtype == np.uint8 and grid.ndim == 2


def test_reset_replaces_a_trained_dcgan_and_stops_its_run():
    session, *_ = gan_images.reset_live(None, *SETTINGS)
    session.gan.train_step()
    new_session, *_ = gan_images.reset_live(session, *SETTINGS)
    assert session.stop.is_set()
    assert new_session.gan.step == 0


# --- Play and what ends it ---


def test_play_hands_over_the_session_before_any_slow_work():
    stream = gan_images.play_live(None, *SETTINGS)
    session, grid, figure, status = next(stream)
    assert isinstance(session, gan_images.ImageGANSession)
    assert session.gan is None  # the DCGAN is built after this first frame
    assert status == "Starting…"
    stream.close()


def test_pause_from_another_thread_ends_the_stream_with_paused(line):
    stream = gan_images.play_live(None, *SETTINGS)
    session = until_training(stream)
    threading.Timer(1.0, gan_images.pause_live, args=(session,)).start()  # what the Pause button does
    frames = finish(stream, within=10)
    last = frames[-1]
    assert status_of(last).endswith("Paused.")
    assert session.gan.step > 0
    assert isinstance(last[1], np.ndarray) and last[1].dtype == np.uint8
    assert "fd" in session.gan.history[-1]  # scored once more at the pause
    assert line.running == 0  # the slot is given back


def test_a_run_stops_by_itself_at_the_time_limit(monkeypatch, line):
    monkeypatch.setattr(gan_images, "MAX_RUN_SECONDS", 0.5)
    frames = finish(gan_images.play_live(None, *SETTINGS), within=10)
    assert "stops by itself" in status_of(frames[-1])
    assert frames[-1][0].gan.step > 0
    assert line.running == 0


def test_a_closed_session_stops_its_run(line):
    stream = gan_images.play_live(None, *SETTINGS)
    session = until_training(stream)
    next(stream)  # one frame of training
    gan_images.close_session(session)  # gr.State's delete_callback when the learner leaves
    frames = finish(stream, within=10)
    assert not any(status_of(frame).endswith("Paused.") for frame in frames)  # nobody is left to see a last frame
    assert session.gan is None  # the session let go of its networks
    assert line.running == 0


def test_reset_while_playing_gets_no_stale_last_frame():
    """Reset swaps in a fresh DCGAN; the old run ends without sending its grid over the Reset's."""
    stream = gan_images.play_live(None, *SETTINGS)
    session = until_training(stream)
    gan_images.reset_live(session, *SETTINGS)
    assert finish(stream, within=10) == []


def test_play_again_continues_the_same_dcgan():
    stream = gan_images.play_live(None, *SETTINGS)
    session = until_training(stream)
    gan_images.pause_live(session)
    list(stream)
    gan, steps = session.gan, session.gan.step
    stream = gan_images.play_live(session, *SETTINGS)
    assert until_training(stream) is session
    gan_images.pause_live(session)
    list(stream)
    assert session.gan is gan and session.gan.step >= steps


# --- the live-training line ---


def test_while_the_line_is_full_play_waits_and_pause_leaves_the_line(monkeypatch):
    full = TrainingSlots(capacity=1)
    monkeypatch.setattr(gan_images, "LIVE_TRAINING", full)
    other_run = full.join()  # someone else trains
    stream = gan_images.play_live(None, *SETTINGS)
    session = next(stream)[0]
    waiting = status_of(next(stream))
    assert "Busy" in waiting and "number 1 in line" in waiting
    assert full.waiting == 1
    gan_images.pause_live(session)
    frames = finish(stream, within=5)
    assert "you left the line" in status_of(frames[-1])
    assert session.gan.step == 0
    assert (full.running, full.waiting) == (1, 0)
    assert other_run.admitted


def test_a_waiting_run_starts_by_itself_when_a_slot_frees(monkeypatch):
    full = TrainingSlots(capacity=1)
    monkeypatch.setattr(gan_images, "LIVE_TRAINING", full)
    other_run = full.join()
    stream = gan_images.play_live(None, *SETTINGS)
    session = next(stream)[0]
    assert "number 1 in line" in status_of(next(stream))
    other_run.leave()  # the other run ends: the next poll (at most 0.5 s) admits this one
    assert until_training(stream) is session
    gan_images.pause_live(session)
    frames = finish(stream, within=10)
    assert status_of(frames[-1]).endswith("Paused.")
    assert (full.running, full.waiting) == (0, 0)


# --- bad input ---

BAD_INPUT = [
    ("mnist", "non-saturating", "abc", 0),
    ("mnist", "non-saturating", float("nan"), 0),
    ("mnist", "non-saturating", 0.5, 0),
    ("mnist", "wgan-gp", 2e-4, 0),
    ("cifar", "non-saturating", 2e-4, 0),
    ("mnist", "non-saturating", 2e-4, -1),
    ("mnist", "non-saturating", 2e-4, 1.5),
]


@pytest.mark.parametrize("settings", BAD_INPUT, ids=repr)
def test_reset_refuses_bad_input_with_a_gradio_error(settings):
    with pytest.raises(gr.Error):
        gan_images.reset_live(None, *settings)


@pytest.mark.parametrize("settings", BAD_INPUT, ids=repr)
def test_play_refuses_bad_input_with_a_gradio_error_before_joining_the_line(settings, line):
    with pytest.raises(gr.Error):
        next(gan_images.play_live(None, *settings))
    assert (line.running, line.waiting) == (0, 0)
