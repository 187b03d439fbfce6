"""The live-training line (core.live_slots): who trains, who waits and at which place, and leaving.

Every test builds its own TrainingSlots; the server-wide LIVE_TRAINING is never touched.
"""

from __future__ import annotations

import threading
import time

from core.live_slots import TrainingSlots, waiting_message

POLL = 0.01


def test_the_first_tickets_up_to_capacity_are_admitted_and_the_rest_wait_in_order():
    slots = TrainingSlots(capacity=2)
    first, second, third, fourth = (slots.join() for _ in range(4))
    assert (first.position, second.position) == (0, 0)
    assert first.admitted and second.admitted
    assert (third.position, fourth.position) == (1, 2)
    assert not third.admitted
    assert (slots.running, slots.waiting) == (2, 2)


def test_when_a_running_ticket_leaves_the_first_in_line_is_admitted_and_the_line_moves_up():
    slots = TrainingSlots(capacity=2)
    first, second, third, fourth = (slots.join() for _ in range(4))
    first.leave()
    assert first.position == -1
    assert third.position == 0 and third.admitted
    assert fourth.position == 1
    assert second.position == 0
    assert (slots.running, slots.waiting) == (2, 1)


def test_a_ticket_that_leaves_the_line_gives_up_its_place():
    slots = TrainingSlots(capacity=1)
    _running, second, third = (slots.join() for _ in range(3))
    second.leave()
    assert second.position == -1
    assert third.position == 1
    assert (slots.running, slots.waiting) == (1, 1)


def test_leaving_twice_is_harmless():
    slots = TrainingSlots(capacity=2)
    first, second, third = (slots.join() for _ in range(3))
    first.leave()
    first.leave()
    assert first.position == -1
    assert (second.position, third.position) == (0, 0)
    assert (slots.running, slots.waiting) == (2, 0)


def test_a_freed_slot_goes_to_a_newcomer_only_when_nobody_waits():
    slots = TrainingSlots(capacity=1)
    first = slots.join()
    first.leave()
    assert (slots.running, slots.waiting) == (0, 0)
    assert slots.join().admitted


def test_with_capacity_zero_nobody_is_admitted():
    slots = TrainingSlots(capacity=0)
    ticket = slots.join()
    assert ticket.position == 1
    assert (slots.running, slots.waiting) == (0, 1)


def test_wait_returns_at_once_for_an_admitted_ticket():
    ticket = TrainingSlots(capacity=1).join()
    assert list(ticket.wait(poll=POLL)) == []


def test_wait_yields_the_position_until_another_thread_frees_a_slot():
    slots = TrainingSlots(capacity=1)
    running = slots.join()
    ticket = slots.join()
    threading.Timer(0.2, running.leave).start()
    started = time.perf_counter()
    positions = list(ticket.wait(poll=POLL))
    assert time.perf_counter() - started < 2
    assert positions and set(positions) == {1}
    assert ticket.admitted
    assert (slots.running, slots.waiting) == (1, 0)


def test_wait_reports_the_place_moving_up_the_line():
    slots = TrainingSlots(capacity=1)
    running, ahead = slots.join(), slots.join()
    ticket = slots.join()
    positions = []
    for position in ticket.wait(poll=POLL):
        positions.append(position)
        if len(positions) == 1:
            ahead.leave()  # the one in front gives up: we move to number 1
        elif position == 1:
            running.leave()  # the slot frees: we are admitted
    assert positions[0] == 2 and positions[-1] == 1
    assert ticket.admitted


def test_wait_with_a_stop_event_leaves_the_line_when_stopped_from_another_thread():
    slots = TrainingSlots(capacity=1)
    slots.join()  # holds the only slot for the whole test
    ticket = slots.join()
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.perf_counter()
    positions = list(ticket.wait(stop, poll=POLL))
    assert time.perf_counter() - started < 2
    assert positions and set(positions) == {1}
    assert ticket.position == -1 and not ticket.admitted
    assert (slots.running, slots.waiting) == (1, 0)


def test_a_stop_event_answers_without_waiting_out_a_long_poll():
    """The stop event is waited on, not slept through: Pause leaves the line at once even with a 10 s poll."""
    slots = TrainingSlots(capacity=0)
    ticket = slots.join()
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.perf_counter()
    list(ticket.wait(stop, poll=10))
    assert time.perf_counter() - started < 2
    assert slots.waiting == 0


def test_waiting_message_names_the_place_in_line():
    message = waiting_message(3)
    assert "Busy" in message
    assert "number 3 in line" in message


def test_waiting_message_speaks_of_one_run_or_several():
    assert "live training is running" in waiting_message(1, capacity=1)
    assert "2 live trainings are running" in waiting_message(1, capacity=2)
