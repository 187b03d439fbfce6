"""Admission to live training: a few runs at once on the whole server, the rest wait in line and know their place.

Live training (the GAN, the VAE, the flow) is the heavy work of this app: each run keeps a CPU
core busy for minutes. `LIVE_TRAINING` lets `CAPACITY` runs train at once, whichever tab started
them; a later run joins a first-come-first-served line and its handler shows "busy, you are number
N in line" until a slot frees (a run ends, is paused, or its user leaves). Waiting costs nothing
but a thread that polls twice a second.

    ticket = LIVE_TRAINING.join()
    try:
        for position in ticket.wait(stop_event):
            show(waiting_message(position))
        if ticket.admitted: ...train...
    finally:
        ticket.leave()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

CAPACITY = 2  # measured on a 2-core CPU: a third concurrent run slows every run more than it adds
POLL_SECONDS = 0.5
HANDLERS = 16  # requests the web server lets hold a thread for live training: CAPACITY train, the rest wait


class TrainingSlots:
    def __init__(self, capacity: int = CAPACITY):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._running: set[Ticket] = set()
        self._line: list[Ticket] = []

    def join(self) -> Ticket:
        ticket = Ticket(self)
        with self._lock:
            self._line.append(ticket)
            self._admit()
        return ticket

    def _admit(self) -> None:  # call with the lock held: first come, first served
        while self._line and len(self._running) < self.capacity:
            self._running.add(self._line.pop(0))

    def _position(self, ticket: Ticket) -> int:
        with self._lock:
            if ticket in self._running:
                return 0
            return self._line.index(ticket) + 1 if ticket in self._line else -1

    def _leave(self, ticket: Ticket) -> None:
        with self._lock:
            self._running.discard(ticket)
            if ticket in self._line:
                self._line.remove(ticket)
            self._admit()

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._line)


class Ticket:
    """One run's place: in line (position 1, 2, ...), training (0), or gone (-1, after leave)."""

    def __init__(self, slots: TrainingSlots):
        self._slots = slots

    @property
    def position(self) -> int:
        return self._slots._position(self)

    @property
    def admitted(self) -> bool:
        return self.position == 0

    def wait(self, stop: threading.Event | None = None, poll: float = POLL_SECONDS) -> Iterator[int]:
        """Yield the place in line now and then until admitted (or `stop` is set: then it leaves the line)."""
        while (position := self.position) > 0:
            yield position
            if stop is not None and stop.wait(poll):
                self.leave()
                return
            if stop is None:
                time.sleep(poll)

    def leave(self) -> None:
        """Free the slot (or the place in line); safe to call twice."""
        self._slots._leave(self)


def waiting_message(position: int, capacity: int = CAPACITY) -> str:
    runs = "live training is" if capacity == 1 else f"{capacity} live trainings are"
    return (
        f"Busy: {runs} running on this server. You are number {position} in line; "
        "training starts by itself when a run ends (Pause leaves the line)."
    )


LIVE_TRAINING = TrainingSlots()  # one line for the whole server, every tab
