"""BertViz's head view and model view of an AttentionRun, offline, as an iframe for gr.HTML. No compute.

BertViz (Vig 2019, https://arxiv.org/abs/1906.05714) returns a page fragment whose script loads
require.js, d3 and jQuery from cdnjs: offline nothing renders, and scripts inside gr.HTML never run
anyway. So the fragment goes into an `<iframe srcdoc=...>` (sandboxed, scripts allowed), with the
require.js tag and BertViz's `require.config` (the CDN paths) removed, the local copies of d3 5.7.0
and jQuery 2.2.4 in assets/vendor/ loaded instead (served by Gradio as static files, see
`static_paths`), and a small shim that hands them to BertViz's `requirejs([...], callback)`.

The payload is bounded (`PAYLOAD_LIMIT_BYTES` for the whole iframe markup): weights are drawn as
line opacities, so they are sent rounded to 2 decimals; a head view keeps every token and as many
layers around the chosen one as fit; a model view keeps every layer and head and cuts the tokens.
Whatever is left out is said in a visible line above the iframe.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from core.attention import AttentionRun

VENDOR_DIR = Path(__file__).resolve().parent.parent / "assets" / "vendor"
# Relative to the page, so it resolves under Gradio's root path too (a srcdoc iframe resolves
# relative URLs against its parent page): Gradio serves static paths at gradio_api/file=<abs path>.
VENDOR_URL_PREFIX = f"gradio_api/file={VENDOR_DIR.as_posix()}/"
VENDOR_SCRIPTS = ("d3.min.js", "jquery.min.js")  # d3 5.7.0 (BSD-3-Clause), jQuery 2.2.4 (MIT)

PAYLOAD_LIMIT_BYTES = 1_000_000  # of the whole iframe markup a view sends to the browser
DECIMALS = 2  # weights are line opacities: 0.01 steps do not show, and a weight costs ~4.5 bytes of JSON
_MARKUP_RESERVE = 60_000  # BertViz's script, our document and escaping, beside the weights

_REQUIRE_JS_TAG = '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js"></script>'
_PARAMS_MARKER = "const params = "
# BertViz calls requirejs(['jquery', 'd3'], function ($, d3) {...}): hand it the local globals.
_SHIM = """window.requirejs = window.require = function (deps, callback) {
  var modules = {jquery: window.jQuery, d3: window.d3};
  callback.apply(null, deps.map(function (name) { return modules[name]; }));
};
window.require.config = function () {};"""
_PAGE_CSS = "html,body{margin:0;background:#fff;color:#000}body{padding:4px 6px}"

# BertViz's own layout constants (head_view.js, model_view.js), to size the iframe to the drawing.
_HEAD_BOX_HEIGHT, _HEAD_TEXT_TOP, _HEAD_CONTROLS = 22.5, 30, 40
_MODEL_AXIS, _MODEL_PADDING, _MODEL_DETAIL_BOX, _MODEL_DETAIL_EXTRA, _MODEL_CONTROLS = 38, 5, 18, 55, 30


@dataclass(frozen=True)
class BertvizView:
    html: str  # the notice line (if any) and the <iframe srcdoc=...>, ready for gr.HTML
    payload_bytes: int  # UTF-8 size of `html`: what the browser receives for this view
    n_tokens: int  # positions drawn (the first n_tokens of the run)
    layers: list[int]  # layers drawn
    notice: str | None  # what was left out to stay under PAYLOAD_LIMIT_BYTES


def static_paths() -> list[Path]:
    """Folders Gradio must serve for these views: `gr.set_static_paths(bertviz_view.static_paths())`."""
    return [VENDOR_DIR]


def vendor_urls() -> list[str]:
    return [VENDOR_URL_PREFIX + name for name in VENDOR_SCRIPTS]


def payload_bytes(markup: str) -> int:
    return len(markup.encode("utf-8"))


# ---- sizing ----------------------------------------------------------------------------------


def _rounded(run: AttentionRun) -> torch.Tensor:
    return torch.round(run.attentions.double(), decimals=DECIMALS)  # (L, H, T, T)


def _json_bytes(weights: torch.Tensor) -> torch.Tensor:
    """(..., T, T) weights -> (...,) bytes of their compact JSON: "0.0", "0.5", "1.0" or "0.07" plus a comma.

    Exact for DECIMALS == 2 (a unit test compares it with json.dumps).
    """
    hundredths = torch.round(weights * 10**DECIMALS).long()
    chars = torch.where(hundredths % 10 == 0, 3, 4) + 1  # each value and its separator
    T = weights.shape[-1]
    # T*T values and separators counted: one separator too many, plus the brackets of rows and matrix
    return chars.sum(dim=(-1, -2)) - 1 + 2 * T + 2


def _budget(max_bytes: int) -> int:
    """Bytes left for the weights' JSON once BertViz's script and our page are counted."""
    return max(max_bytes - _MARKUP_RESERVE, max_bytes // 4)


def _keep_under(max_bytes: int) -> str:
    return f"to keep the page under {max_bytes / 1e6:g} MB"


def _check_can_shrink(n_tokens: int, max_bytes: int) -> None:
    if n_tokens <= 2:
        raise ValueError(f"A BertViz view cannot fit in {max_bytes} bytes: its script alone is bigger.")


def _layer_window(layer: int, n_layers: int, n_fit: int) -> list[int]:
    n_fit = max(1, min(n_fit, n_layers))
    start = min(max(0, layer - n_fit // 2), n_layers - n_fit)
    return list(range(start, start + n_fit))


def _tokens_that_fit(weights: torch.Tensor, budget: int) -> int:
    """The largest prefix of positions whose (..., T, T) weights stay under `budget` bytes of JSON."""
    T = weights.shape[-1]
    while T > 2 and int(_json_bytes(weights[..., :T, :T]).sum()) > budget:
        T = max(2, int(T * 0.95))
    return T


# ---- markup ----------------------------------------------------------------------------------


def _offline_document(fragment: str) -> str:
    """BertViz's fragment as a full page that loads d3 and jQuery from assets/vendor/, not a CDN."""
    # 1. no require.js, and no require.config with its cdnjs paths: the shim stands in for both
    if _REQUIRE_JS_TAG not in fragment:
        raise RuntimeError("BertViz's markup changed: its require.js tag was not found (pinned bertviz==1.4.1).")
    fragment = fragment.replace(_REQUIRE_JS_TAG, "")
    config_start = fragment.find("require.config(")
    config_end = fragment.find("});", config_start)
    if config_start < 0 or config_end < 0:
        raise RuntimeError("BertViz's markup changed: its require.config block was not found.")
    fragment = fragment[:config_start] + fragment[config_end + 3 :]  # drop the cdnjs paths
    # 2. the parameters again, compact and with "<" escaped, so no label can close the <script>;
    # the rest of that line goes: BertViz's comment there names its template marker, which its
    # str.replace also filled with a second, full copy of the parameters
    start = fragment.index(_PARAMS_MARKER) + len(_PARAMS_MARKER)
    params, end = json.JSONDecoder().raw_decode(fragment, start)
    line_end = fragment.find("\n", end)
    if not fragment.startswith(";", end) or line_end < 0:
        raise RuntimeError("BertViz's markup changed: its parameter line was not recognised.")
    compact = json.dumps(params, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")
    fragment = fragment[:start] + compact + ";" + fragment[line_end:]
    # 3. local d3 and jQuery, then the shim, before BertViz's script runs
    scripts = "".join(f'<script src="{html.escape(url)}"></script>' for url in vendor_urls())
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{_PAGE_CSS}</style>'
        f"{scripts}<script>{_SHIM}</script></head><body>{fragment}</body></html>"
    )


def _iframe(document: str, height: int, title: str, notice: str | None) -> str:
    line = f'<p class="bertviz-notice">{html.escape(notice)}</p>' if notice else ""
    return (
        f'{line}<iframe class="bertviz-frame" title="{html.escape(title)}" sandbox="allow-scripts" '
        f'srcdoc="{html.escape(document, quote=True)}" '
        f'style="width:100%; height:{height}px; border:0"></iframe>'
    )


def _view(n_tokens: int, layers: list[int], notice: str | None, title: str, fragment: str, height: int) -> BertvizView:
    markup = _iframe(_offline_document(fragment), height, title, notice)
    return BertvizView(markup, payload_bytes(markup), n_tokens, layers, notice)


def _bertviz_input(weights: torch.Tensor, n_tokens: int) -> tuple[torch.Tensor, ...]:
    return tuple(w[:, :n_tokens, :n_tokens].unsqueeze(0) for w in weights)  # L x (1, H, T, T)


# ---- the two views ---------------------------------------------------------------------------


def head_view(run: AttentionRun, layer: int | None = None, max_bytes: int = PAYLOAD_LIMIT_BYTES) -> BertvizView:
    """BertViz's head view: lines from each token to the tokens it attends to, one colour per head.

    `layer` is the layer shown first (default 0). Every layer is included when the payload allows;
    otherwise the layers nearest `layer` that fit (and, if even one layer is too big, fewer tokens).
    The browser draws heads x tokens^2 SVG lines: 126 tokens take seconds on a CPU.
    """
    from bertviz import head_view as bertviz_head_view

    L, H, T, _ = run.attentions.shape
    layer = 0 if layer is None else layer
    if not 0 <= layer < L:
        raise ValueError(f"Layer {layer} does not exist: this model has layers 0 to {L - 1}.")
    weights = _rounded(run)
    budget = _budget(max_bytes)
    per_layer = _json_bytes(weights).sum(dim=1)  # (L,)
    n_fit = int(budget // int(per_layer.max()))
    n_tokens = T if n_fit >= 1 else _tokens_that_fit(weights[layer], budget)
    while True:
        layers = list(range(L)) if n_fit >= L else _layer_window(layer, L, n_fit)
        notes = []
        if len(layers) < L:
            shown = f"layer {layer}" if len(layers) == 1 else f"layers {layers[0]}–{layers[-1]}"
            notes.append(f"{shown} of 0–{L - 1} (choose another layer to see the rest)")
        if n_tokens < T:
            notes.append(f"the first {n_tokens} of {T} tokens")
        notice = f"Head view shows {' and '.join(notes)}, {_keep_under(max_bytes)}." if notes else None
        fragment = bertviz_head_view(
            _bertviz_input(weights, n_tokens),
            run.labels[:n_tokens],
            layer=layer,
            include_layers=layers,
            html_action="return",
        ).data
        height = round(n_tokens * _HEAD_BOX_HEIGHT + _HEAD_TEXT_TOP + _HEAD_CONTROLS)
        view = _view(n_tokens, layers, notice, "BertViz head view", fragment, height)
        if view.payload_bytes <= max_bytes:
            return view
        _check_can_shrink(n_tokens, max_bytes)
        if len(layers) > 1:  # the estimate was off: one layer fewer, then fewer tokens
            n_fit = len(layers) - 1
        else:
            n_tokens = max(2, int(n_tokens * 0.9))


def model_view(run: AttentionRun, max_bytes: int = PAYLOAD_LIMIT_BYTES) -> BertvizView:
    """BertViz's model view: a thumbnail of every head of every layer; click one to see its tokens.

    Every layer and head is kept; when the weights would pass the payload bound, only the first
    tokens are drawn (their real weights among themselves; rows no longer sum to 1). The browser
    draws layers x heads x tokens^2 SVG lines: the ~54 tokens of a 1 MB view take seconds on a CPU.
    """
    from bertviz import model_view as bertviz_model_view

    L, H, T, _ = run.attentions.shape
    weights = _rounded(run)
    n_tokens = _tokens_that_fit(weights, _budget(max_bytes))
    while True:
        notice = None
        if n_tokens < T:
            notice = (
                f"Model view shows the first {n_tokens} of {T} tokens (all {L} layers × {H} heads), "
                f"{_keep_under(max_bytes)}."
            )
        fragment = bertviz_model_view(
            _bertviz_input(weights, n_tokens), run.labels[:n_tokens], display_mode="light", html_action="return"
        ).data
        box = 7 * 12 / H  # BertViz's thumbnail row height
        thumbnails = L * (n_tokens * box + 2 * _MODEL_PADDING) + _MODEL_AXIS
        detail = n_tokens * _MODEL_DETAIL_BOX + _MODEL_DETAIL_EXTRA
        height = round(max(thumbnails, detail) + _MODEL_CONTROLS)
        view = _view(n_tokens, list(range(L)), notice, "BertViz model view", fragment, height)
        if view.payload_bytes <= max_bytes:
            return view
        _check_can_shrink(n_tokens, max_bytes)
        n_tokens = max(2, int(n_tokens * 0.9))


def head_view_html(run: AttentionRun, layer: int | None = None) -> str:
    """The head view's markup for gr.HTML (see `head_view` for its size and what it leaves out)."""
    return head_view(run, layer).html


def model_view_html(run: AttentionRun) -> str:
    """The model view's markup for gr.HTML (see `model_view` for its size and what it leaves out)."""
    return model_view(run).html
