"""Free what a learner's session holds soon after they close the page.

Gradio keeps a closed session's state for an hour (so a reloaded page could find it again) and the
session's copy of the page configuration until 10,000 newer sessions push it out. In a lecture hall
that is hundreds of sessions, each holding sampled runs, live models and optimizers, long after
their students left. When a page closes (its heartbeat connection ends, Gradio runs `unload`) this
waits GRACE_S seconds, and if the session has not been used again in the meantime (a page that
merely lost its connection for a moment and came back), deletes its state the way Gradio would an
hour later (every gr.State's delete_callback runs, so live trainings stop) and drops the session.
Then, once per burst of closed pages, it runs Python's cycle collector (a session's state and
page configuration refer to each other, so reference counting alone never frees them) and asks the
C allocator to hand the freed memory back to the system (glibc keeps freed small blocks otherwise),
so the server's footprint actually shrinks.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import gc
import os
import threading

import gradio as gr

GRACE_ENV = "PLAYGROUND_SESSION_GRACE_S"
GRACE_S = 60.0
COLLECT_AFTER_S = 2.0  # sessions released within this time share one collection

_collect_lock = threading.Lock()
_collect_pending = False


def _grace_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(GRACE_ENV, GRACE_S)))
    except ValueError:
        return GRACE_S


def _trim_heap() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _collect() -> None:
    global _collect_pending
    with _collect_lock:
        _collect_pending = False
    gc.collect()
    _trim_heap()


def _schedule_collect() -> None:
    global _collect_pending
    with _collect_lock:
        if _collect_pending:
            return
        _collect_pending = True
    timer = threading.Timer(COLLECT_AFTER_S, _collect)
    timer.daemon = True
    timer.start()


def release(demo: gr.Blocks, session_hash: str, closed_at: datetime.datetime) -> None:
    """Delete the session's state and the session itself, unless it was used after `closed_at`."""
    holder = getattr(demo, "state_holder", None)
    if holder is None or session_hash not in holder:
        return
    last_used = holder.time_last_used.get(session_hash)
    if last_used is not None and last_used > closed_at:
        return  # the page came back
    holder.delete_state(session_hash)  # runs each gr.State's delete_callback
    with holder.lock:
        holder.session_data.pop(session_hash, None)
        holder.time_last_used.pop(session_hash, None)
    _schedule_collect()


def register(demo: gr.Blocks) -> None:
    """Call inside the Blocks: release each session GRACE_S seconds after its page closes."""

    def on_unload(request: gr.Request) -> None:
        session_hash = getattr(request, "session_hash", None)
        if not session_hash:
            return
        timer = threading.Timer(_grace_seconds(), release, (demo, session_hash, datetime.datetime.now()))
        timer.daemon = True
        timer.start()

    demo.unload(on_unload)
