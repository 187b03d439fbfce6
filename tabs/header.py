"""The header: the product's name, where the work runs, whether the Hub is reachable, and the presenter-mode switch."""

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


def render(demo: gr.Blocks) -> tuple[gr.Checkbox, gr.Markdown]:
    """The strip, the presenter-mode switch, and the (hidden) notice a deep link writes into."""
    with gr.Row(equal_height=True):
        with gr.Column(scale=6):
            strip = gr.HTML(_strip("Hugging Face Hub: checking…"), elem_id="pg-header-strip")
        with gr.Column(scale=1, min_width=170):
            presenter = gr.Checkbox(False, label="Presenter mode", container=False, elem_id="pg-presenter")
    notice = gr.Markdown(visible=False, elem_id="pg-link-notice")
    demo.load(header_html, None, strip, api_name="environment")
    # Presenter mode is a page class: bigger type and plots, advanced controls hidden (CSS below).
    presenter.change(None, presenter, None, js=PRESENTER_JS)
    return presenter, notice


PRESENTER_JS = "(on) => { document.body.classList.toggle('pg-presenter', !!on); }"


CSS = """
.pg-header { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; }
.pg-title { font-size: 1.5em; font-weight: 700; margin-right: 12px; }
.pg-chip { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 3px 12px; font-size: 0.95em; }
#pg-link-notice { border-left: 4px solid #e6a700; padding-left: 10px; }
.pg-link-row { align-items: center; }
/* Presenter mode: everything a quarter larger for the back row, and the controls marked advanced hidden. */
body.pg-presenter .gradio-container { zoom: 1.25; }
body.pg-presenter .pg-advanced, body.pg-presenter .pg-link-row { display: none !important; }
"""
