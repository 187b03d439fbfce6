"""Numbers typed or sent to a handler, checked the same way in every tab: a clear message, never a crash."""

from __future__ import annotations

import math

import gradio as gr


def whole_number(value, name: str) -> int:
    """`value` (a float from a number box or slider, or anything an API caller sends) as an int."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise gr.Error(f"The {name} must be a number.") from None
    if not math.isfinite(number):
        raise gr.Error(f"The {name} must be a finite number.")
    return int(number)


def kept_step(value, count: int) -> int:
    """The 0-based index of step `value` (1-based, as the slider shows it) among `count` kept steps, clamped."""
    return min(max(whole_number(value, "step"), 1), count) - 1
