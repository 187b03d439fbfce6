"""Request batching for the guidance tab: users' runs that wait at the same time share pipeline calls.

On a GPU one call of 8 images takes little longer than a call of one, so when a lecture hall
clicks Generate together, sampling the waiting requests in one call multiplies the images per
second (bench guidance measures it at 1, 4 and 8 users). A `Batcher` per model makes one
pipeline call at a time; requests that arrive while a call runs wait, and the next call takes all
that can share it (core.guidance_run.shared_by_one_call: same scale, steps, sampler, size...),
up to MAX_BATCH_IMAGES images. A request that arrives at an idle model starts at once.

Every request still streams its own run step by step (its rows of the shared batch, recorded by
core.guidance_run), keeps its own seeds, so it gets the images it would get alone, and can be
cancelled: a call stops early only when every request in it was cancelled.

Why not Gradio's own `batch=True`: a batched Gradio function cannot stream, and Gradio 6 writes
the gr.State outputs of every request in a batch into the first request's session (one
SessionState per batch), which would hand one user's run to another.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from core import guidance_run as gr_run
from core.guidance import Loaded, Settings, check

# One call of at most this many images: 8 users with the tab's default of 4 each. TinySD on a
# 2-core CPU gains images per second up to about 16 images a call (bench guidance).
MAX_BATCH_IMAGES = 32
# After a call, the next one waits this long for more requests when it has room: the users of the
# call just finished are sending their next requests (the first request at an idle model never waits).
GATHER_S = 0.05
QUIET_YIELD_S = 0.5  # a request with no news (waiting for its call, or a slow step) yields this often


@dataclass
class _Ticket:
    settings: Settings
    updates: queue.Queue = field(default_factory=queue.Queue)  # (run, "step" | "done") or an exception
    cancelled: threading.Event = field(default_factory=threading.Event)


class Batcher:
    """Runs one model's requests, one pipeline call at a time, each call taking every waiting request
    that can share it."""

    def __init__(self, loaded: Loaded, max_images: int = MAX_BATCH_IMAGES, previews: bool = True):
        self.loaded = loaded
        self.previews = previews  # decode each step's x0 for the preview strips
        self.max_images = max_images
        self._waiting: list[_Ticket] = []
        self._lock = threading.Lock()
        self._busy = False
        self.calls = 0  # pipeline calls made (for tests and the benchmark)

    def run(self, settings: Settings) -> Iterator[gr_run.Run]:
        """Like core.guidance_run.run: yields the request's Run after each step and once done (and,
        while it waits for its call, a Run with no steps every QUIET_YIELD_S); raises ValueError for
        bad settings before the first yield; closing the iterator cancels the request."""
        ticket = _Ticket(check(settings, self.loaded))
        gr_run.watch(self.loaded)
        with self._lock:
            self._waiting.append(ticket)
            start_dispatcher = not self._busy
            self._busy = True
        if start_dispatcher:
            threading.Thread(target=self._dispatch, daemon=True, name="guidance-batcher").start()
        latest = gr_run.Run(ticket.settings, self.loaded.key)  # no steps yet: waiting for its call
        try:
            while True:
                try:
                    update = ticket.updates.get(timeout=QUIET_YIELD_S)
                except queue.Empty:
                    yield latest  # so that the consumer sees the wait, and can close the iterator
                    continue
                if isinstance(update, BaseException):
                    raise update
                latest, what = update
                yield latest
                if what == "done":
                    return
        finally:
            ticket.cancelled.set()

    def _next_call(self) -> list[_Ticket]:
        """The tickets of the next call: the oldest waiting request and those that can share its call."""
        with self._lock:
            self._waiting = [t for t in self._waiting if not t.cancelled.is_set()]
            if not self._waiting:
                self._busy = False
                return []
            key = gr_run.shared_by_one_call(self._waiting[0].settings)
            chosen, images = [], 0
            for ticket in self._waiting:
                if (
                    gr_run.shared_by_one_call(ticket.settings) == key
                    and images + ticket.settings.batch <= self.max_images
                ):
                    chosen.append(ticket)
                    images += ticket.settings.batch
            self._waiting = [t for t in self._waiting if t not in chosen]
            return chosen

    def _room(self) -> bool:
        with self._lock:
            return sum(t.settings.batch for t in self._waiting) < self.max_images

    def _dispatch(self) -> None:
        first = True
        while True:
            if not first and self._room():
                time.sleep(GATHER_S)
            first = False
            tickets = self._next_call()
            if not tickets:
                return
            self.calls += 1
            try:
                runs, updates, stop = gr_run.start(self.loaded, [t.settings for t in tickets], self.previews)
            except Exception as err:  # the call could not start: its requests hear why, the rest go on
                for ticket in tickets:
                    ticket.updates.put(err)
                continue
            while True:
                update = updates.get()
                if all(t.cancelled.is_set() for t in tickets):
                    stop.set()  # nobody is watching this call any more: stop it at its next step
                for ticket, run in zip(tickets, runs, strict=True):
                    ticket.updates.put(update if isinstance(update, BaseException) else (run, update))
                if update == "done" or isinstance(update, BaseException):
                    break


_batchers: dict[int, Batcher] = {}
_batchers_lock = threading.Lock()


def batcher_for(loaded: Loaded) -> Batcher:
    """The one Batcher of this loaded pipeline (every user of a model shares it)."""
    with _batchers_lock:
        batcher = _batchers.get(id(loaded.pipe))
        if batcher is None or batcher.loaded.pipe is not loaded.pipe:
            batcher = _batchers[id(loaded.pipe)] = Batcher(loaded)
        return batcher
