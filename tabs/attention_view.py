"""Plotly figures and tables for the attention tab: tensors and labels in, figures out. No model calls.

Payload discipline (each update should send at most about 1 MB to the browser): the overview grid
averages blocks of positions when the input is longer than GRID_CELLS tokens; the enlarged head,
the rollout and the tables show every value.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import torch
from PIL import Image, ImageDraw
from plotly.subplots import make_subplots  # inside_figure's two panels

from core.attention import HeadComputation, HeadStats

GRID_CELLS = 32  # at most this many rows/columns per head in the overview grid
COLORSCALE = "Blues"
FONT = {"size": 14}


def _pool(matrix: torch.Tensor, cells: int) -> torch.Tensor:
    """Average (T, T) down to at most (cells, cells) by blocks of whole positions."""
    T = matrix.shape[-1]
    if T <= cells:
        return matrix
    block = math.ceil(T / cells)
    padded = torch.nn.functional.pad(matrix, (0, block * cells - T, 0, block * cells - T))
    return padded.view(cells, block, cells, block).mean(dim=(1, 3))


def grid_figure(attentions: torch.Tensor, selected: tuple[int, int] | None = None) -> go.Figure:
    """All layers (rows) x heads (columns) as small heat maps; the selected head is outlined.

    Drawn as one heat map of tiles separated by blank lines: 72 separate subplots cost plotly
    about half a second to build, a single trace a few milliseconds.
    """
    L, H, T, _ = attentions.shape
    tiles = torch.stack(
        [torch.stack([_pool(attentions[layer, head], GRID_CELLS) for head in range(H)]) for layer in range(L)]
    )
    c = tiles.shape[-1]  # cells per tile side
    step = c + 1  # one blank line between tiles
    canvas = torch.full((L * step - 1, H * step - 1), float("nan"))
    for layer in range(L):
        for head in range(H):
            canvas[layer * step : layer * step + c, head * step : head * step + c] = tiles[layer, head]
    figure = go.Figure(
        go.Heatmap(
            z=canvas.numpy().round(3),
            zmin=0,
            zmax=1,
            colorscale=COLORSCALE,
            hoverongaps=False,
            hovertemplate="weight %{z:.3f}<extra>enlarge a head below for labelled values</extra>",
        )
    )
    centres = [i * step + (c - 1) / 2 for i in range(max(L, H))]
    figure.update_xaxes(tickvals=centres[:H], ticktext=[f"h{h}" for h in range(H)], showgrid=False, zeroline=False)
    figure.update_yaxes(
        tickvals=centres[:L],
        ticktext=[f"L{layer}" for layer in range(L)],
        autorange="reversed",
        showgrid=False,
        zeroline=False,
    )
    if selected is not None:
        layer, head = selected
        figure.add_shape(
            type="rect",
            x0=head * step - 0.5,
            x1=head * step + c - 0.5,
            y0=layer * step - 0.5,
            y1=layer * step + c - 0.5,
            line={"color": "#e67e22", "width": 3},
        )
    pooled = " (blocks of positions averaged)" if T > GRID_CELLS else ""
    figure.update_layout(
        title=f"Every head: rows = layers, columns = heads; each tile is query → key{pooled}",
        height=110 * L + 80,
        margin={"t": 50, "l": 40, "r": 20, "b": 40},
        font=FONT,
        plot_bgcolor="white",
    )
    return figure


def head_figure(matrix: torch.Tensor, labels: list[str], title: str) -> go.Figure:
    """One head (or a rollout) at full resolution, with token labels on both axes."""
    T = len(labels)
    ticks = [f"{i}:{label}" for i, label in enumerate(labels)]  # positions keep repeated tokens apart
    figure = go.Figure(
        go.Heatmap(
            z=matrix.numpy().round(4),
            x=ticks,
            y=ticks,
            zmin=0,
            zmax=float(max(matrix.max().item(), 1e-6)) if "rollout" in title.lower() else 1,
            colorscale=COLORSCALE,
            hovertemplate="query %{y}<br>key %{x}<br>weight %{z:.4f}<extra></extra>",
        )
    )
    size = max(420, min(900, 18 * T + 200))
    figure.update_layout(title=title, height=size, font=FONT, margin={"t": 60, "l": 120, "r": 20, "b": 120})
    every = 1 if T <= 64 else None  # label every token while they fit
    figure.update_yaxes(autorange="reversed", title="query (attends from)", dtick=every)
    figure.update_xaxes(title="key (attends to)", tickangle=-60, dtick=every)
    return figure


def bars_figure(values: torch.Tensor, labels: list[str], title: str, yaxis: str) -> go.Figure:
    ticks = [f"{i}:{label}" for i, label in enumerate(labels)]
    figure = go.Figure(
        go.Bar(
            x=ticks, y=values.numpy().round(5), marker_color="#3b75af", hovertemplate="%{x}: %{y:.4f}<extra></extra>"
        )
    )
    figure.update_layout(
        title=title, yaxis_title=yaxis, height=380, font=FONT, margin={"t": 60, "l": 60, "r": 20, "b": 110}
    )
    figure.update_xaxes(tickangle=-60, dtick=1 if len(labels) <= 64 else None)
    return figure


STATS_HEADERS = ["layer", "head", "entropy (bits)", "mean distance", "previous-token", "sink share", "induction"]


def stats_rows(stats: list[HeadStats]) -> list[list]:
    return [
        [
            s.layer,
            s.head,
            round(s.entropy, 3),
            round(s.mean_distance, 2),
            round(s.previous_token, 3),
            round(s.sink, 3),
            None if s.induction is None else round(s.induction, 3),
        ]
        for s in stats
    ]


INSIDE_HEADERS = ["key position", "key token", "q·k / √d", "after mask", "softmax weight", "weight × ‖v‖"]


def inside_rows(step: HeadComputation, values: torch.Tensor, labels: list[str]) -> list[list]:
    norms = values.norm(dim=-1)
    return [
        [
            j,
            labels[j],
            round(float(step.scores[j]), 4),
            "−∞" if math.isinf(step.masked[j]) else round(float(step.masked[j]), 4),
            round(float(step.weights[j]), 5),
            round(float(step.weights[j] * norms[j]), 4),
        ]
        for j in range(len(labels))
    ]


def inside_figure(step: HeadComputation, labels: list[str], title: str) -> go.Figure:
    ticks = [f"{i}:{label}" for i, label in enumerate(labels)]
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        subplot_titles=("scores q·k / √d (masked positions hidden)", "softmax weights"),
        vertical_spacing=0.12,
    )
    visible = [None if math.isinf(v) else round(float(v), 4) for v in step.masked]
    figure.add_trace(go.Bar(x=ticks, y=visible, marker_color="#8e6bbf", name="score"), row=1, col=1)
    figure.add_trace(
        go.Bar(x=ticks, y=step.weights.numpy().round(5), marker_color="#3b75af", name="weight"), row=2, col=1
    )
    figure.update_layout(
        title=title, height=560, showlegend=False, font=FONT, margin={"t": 80, "l": 60, "r": 20, "b": 110}
    )
    figure.update_xaxes(tickangle=-60)
    return figure


def next_token_figure(
    raw: list[tuple[str, int | None, float]], kept: list[tuple[str, int | None, float]], title: str
) -> go.Figure:
    """The most likely next tokens: the model's own probabilities and what the filters leave."""

    def label(text: str, gid: int | None) -> str:
        return f"{text.replace(' ', '·').replace(chr(10), '↵')!s} ({'unk' if gid is None else gid})"

    figure = go.Figure()
    series = [(raw, "model (temperature 1)", "#b7c7dc"), (kept, "after temperature / top-k / top-p", "#3b75af")]
    for rows, name, colour in series:
        x = [label(t, g) for t, g, _ in rows]
        figure.add_trace(go.Bar(x=x, y=[round(p, 5) for *_, p in rows], name=name, marker_color=colour))
    figure.update_layout(
        title=title,
        yaxis_title="probability",
        barmode="group",
        height=420,
        font=FONT,
        margin={"t": 60, "l": 60, "r": 20, "b": 120},
        legend={"orientation": "h", "y": 1.12},
    )
    figure.update_xaxes(tickangle=-50)
    return figure


# --- the exported picture (PNG): the grid and the enlarged head, drawn server-side ---

_BLUES = np.array(
    [[int(v) for v in colour[4:-1].split(",")] for colour in plotly.colors.sequential.Blues], dtype=np.float32
)  # the figures' colour scale, as RGB stops from weight 0 to 1


def _coloured(weights: np.ndarray) -> np.ndarray:
    """Weights in [0, 1] (any shape) -> RGB uint8 on the Blues scale."""
    position = np.clip(weights, 0, 1) * (len(_BLUES) - 1)
    low = np.floor(position).astype(int).clip(0, len(_BLUES) - 2)
    frac = (position - low)[..., None]
    return (_BLUES[low] * (1 - frac) + _BLUES[low + 1] * frac).round().astype(np.uint8)


def _heat(matrix: torch.Tensor, cell: int) -> Image.Image:
    pixels = _coloured(matrix.float().numpy())
    return Image.fromarray(np.kron(pixels, np.ones((cell, cell, 1), dtype=np.uint8)))


def attention_picture(attentions: torch.Tensor, labels: list[str], layer: int, head: int) -> np.ndarray:
    """Every head (pooled tiles, the chosen one outlined) above the chosen head with token labels, RGB."""
    L, H, T, _ = attentions.shape
    tile_cell = max(1, 64 // min(T, GRID_CELLS))
    tile = min(T, GRID_CELLS) * tile_cell
    gap, left = 6, 30
    cell = min(24, max(3, 720 // T))
    label_width = 6 * min(14, max(len(t) for t in labels) + 4) if cell >= 10 else 0
    grid_width, grid_height = left + H * (tile + gap), 16 + L * (tile + gap)
    head_side = label_width + T * cell
    width = max(grid_width, head_side + 10)
    canvas = Image.new("RGB", (width, grid_height + 24 + head_side), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for h in range(H):
        draw.text((left + h * (tile + gap) + tile // 2 - 6, 2), f"h{h}", fill=(0, 0, 0))
    for lay in range(L):
        y = 16 + lay * (tile + gap)
        draw.text((4, y + tile // 2 - 6), f"L{lay}", fill=(0, 0, 0))
        for h in range(H):
            x = left + h * (tile + gap)
            canvas.paste(_heat(_pool(attentions[lay, h], GRID_CELLS), tile_cell), (x, y))
            if (lay, h) == (layer, head):
                draw.rectangle((x - 3, y - 3, x + tile + 2, y + tile + 2), outline=(230, 126, 34), width=3)
    top = grid_height + 6
    draw.text(
        (4, top), f"Layer {layer}, head {head}: rows = query (attends from), columns = key (attends to)", fill=(0, 0, 0)
    )
    top += 18
    canvas.paste(_heat(attentions[layer, head], cell), (label_width, top + label_width))
    if label_width:  # token labels: rows on the left, columns written downwards above the map
        names = [f"{i}:{t}"[:14] for i, t in enumerate(labels)]
        column_labels = Image.new("RGB", (label_width, T * cell), (255, 255, 255))
        column_draw = ImageDraw.Draw(column_labels)
        for i, name in enumerate(names):
            draw.text((2, top + label_width + i * cell + (cell - 11) // 2), name, fill=(0, 0, 0))
            column_draw.text((2, i * cell + (cell - 11) // 2), name, fill=(0, 0, 0))
        canvas.paste(column_labels.rotate(90, expand=True), (label_width, top))
    return np.asarray(canvas)
