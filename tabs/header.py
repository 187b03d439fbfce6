"""The header strip: the product's name, where the work runs, and whether the Hub is reachable."""

from __future__ import annotations

import gradio as gr

from core.assets import hub_status
from core.device import describe

TITLE = "GenAI Playground"


def _strip(hub_detail: str) -> str:
    return (
        f'<div class="pg-header"><span class="pg-title">{TITLE}</span>'
        f'<span class="pg-chip" id="pg-device">Device: {describe().summary}</span>'
        f'<span class="pg-chip" id="pg-hub">{hub_detail}</span></div>'
    )


def header_html() -> str:
    """Re-checked on every page load (the check is time-bounded and cached for a few minutes)."""
    return _strip(hub_status().detail)


def render(demo: gr.Blocks) -> None:
    strip = gr.HTML(_strip("Hugging Face Hub: checking…"), elem_id="pg-header-strip")
    demo.load(header_html, None, strip, api_name="environment")


CSS = """
.pg-header { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; }
.pg-title { font-size: 1.5em; font-weight: 700; margin-right: 12px; }
.pg-chip { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 3px 12px; font-size: 0.95em; }
"""
