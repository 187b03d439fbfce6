"""The GAN tab's Play loop, driven directly: it stops by itself at the time limit and on Pause."""

from __future__ import annotations

import threading
import time

from core.gan2d import GANConfig
from tabs import gan
from tabs.gan import setting_values

DEFAULTS = GANConfig()
SETTINGS = setting_values(DEFAULTS)  # the tab's settings inputs, in order
LAYERS = ["surface", "real", "fake"]


def test_a_run_stops_by_itself_at_the_time_limit(monkeypatch):
    monkeypatch.setattr(gan, "MAX_RUN_SECONDS", 0.5)
    started = time.perf_counter()
    frames = list(gan.play(None, LAYERS, False, None, *SETTINGS))
    assert time.perf_counter() - started < 5
    assert "stops by itself" in frames[-1][-1]
    session = frames[-1][0]
    assert session.gan.step > 0


def test_pause_from_another_thread_ends_the_stream_within_a_frame():
    stream = gan.play(None, LAYERS, False, None, *SETTINGS)
    session = next(stream)[0]
    threading.Timer(0.5, session.stop.set).start()  # what the Pause button's handler does
    started = time.perf_counter()
    *_, last = stream
    assert time.perf_counter() - started < 2
    assert last[-1].endswith("Paused.")


def test_a_session_that_is_closed_stops_its_run():
    stream = gan.play(None, LAYERS, False, None, *SETTINGS)
    session = next(stream)[0]
    gan._close(session)  # gr.State's delete_callback when the learner leaves
    started = time.perf_counter()
    rest = list(stream)
    assert time.perf_counter() - started < 2
    assert not any(frame[-1].endswith("Paused.") for frame in rest)  # no last frame: nobody is there to see it


def test_reset_while_playing_gets_no_stale_last_frame():
    """Reset swaps in a fresh GAN; the old run must end without sending its picture over the Reset's."""
    stream = gan.play(None, LAYERS, False, None, *SETTINGS)
    session = next(stream)[0]
    next(stream)
    session.stop.set()
    session.gan = gan.GAN2D(DEFAULTS)  # what reset() leaves behind in the session
    assert list(stream) == []
