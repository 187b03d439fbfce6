"""2-D pictures shared by the diffusion and flow tabs: the data, particles with trails, and a vector field.

Built from plain dicts (gradio's PlotData) rather than plotly's validated figures: a scrub slider
redraws them many times a second.
"""

from __future__ import annotations

import json

import torch
from gradio.components.plot import PlotData

from core import toy2d

TRAIL_STEPS = 12  # earlier positions drawn behind each particle
TRAIL_PARTICLES = 150


def plot_data(data: list[dict], layout: dict) -> PlotData:
    """A plotly figure as gr.Plot sends it, from plain dicts: plotly's go.Figure validates every property
    on construction (~20 ms per figure), too slow for views redrawn many times a second."""
    return PlotData(type="plotly", plot=json.dumps({"data": data, "layout": layout}, separators=(",", ":")))


def _xy(points: torch.Tensor) -> tuple[list[float], list[float]]:
    rounded = points.detach().double().round(decimals=3)
    return rounded[:, 0].tolist(), rounded[:, 1].tolist()


def arrow_traces(points: torch.Tensor, vectors: torch.Tensor, name: str, colour: str = "#636363") -> list[dict]:
    """Line segments from each grid point along its vector, with a dot at the tip (the arrow's head):
    direction exact, length squashed by tanh so that strong and weak regions both stay readable."""
    length = vectors.norm(dim=1, keepdim=True).clamp_min(1e-9)
    tips = points + vectors / length * (0.35 * torch.tanh(length / length.median()))
    xs, ys = [], []
    for (x, y), (u, v) in zip(points.tolist(), tips.tolist(), strict=True):
        xs += [round(x, 3), round(u, 3), None]
        ys += [round(y, 3), round(v, 3), None]
    tx, ty = _xy(tips)
    return [
        {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": name, "legendgroup": name,
         "line": {"color": colour, "width": 1.2}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "markers", "x": tx, "y": ty, "legendgroup": name, "showlegend": False,
         "marker": {"color": colour, "size": 3.5}, "hoverinfo": "skip"},
    ]  # fmt: skip


def particles_figure(
    data: torch.Tensor,
    positions: list[torch.Tensor],
    index: int,
    field: tuple[torch.Tensor, torch.Tensor, str] | None = None,
    title: str = "",
) -> PlotData:
    """Data (blue), particles at positions[index] (red) with trails, and optionally a field (points, vectors, name)."""
    index = min(max(index, 0), len(positions) - 1)
    dx, dy = _xy(data[:1_000])
    traces: list[dict] = [
        {"type": "scattergl", "mode": "markers", "x": dx, "y": dy, "name": "data",
         "marker": {"size": 3, "color": "#9ecae1"}}
    ]  # fmt: skip
    if field is not None:
        traces += arrow_traces(*field)
    trail = positions[max(0, index - TRAIL_STEPS) : index + 1]
    if len(trail) > 1:
        xs, ys = [], []
        for particle in torch.stack(trail, dim=1)[:TRAIL_PARTICLES]:  # (steps, 2) per particle
            px, py = _xy(particle)
            xs += [*px, None]
            ys += [*py, None]
        traces.append(
            {"type": "scattergl", "mode": "lines", "x": xs, "y": ys, "name": "trails",
             "line": {"color": "rgba(203,24,29,0.35)", "width": 1}, "hoverinfo": "skip"}
        )  # fmt: skip
    px, py = _xy(positions[index])
    traces.append(
        {"type": "scattergl", "mode": "markers", "x": px, "y": py, "name": "particles",
         "marker": {"size": 4, "color": "#cb181d"}}
    )  # fmt: skip
    span = [toy2d.PLOT_RANGE[0] - 1.5, toy2d.PLOT_RANGE[1] + 1.5]
    layout = {
        "height": 560,
        "margin": {"l": 40, "r": 10, "t": 40 if title else 30, "b": 40},
        "legend": {"orientation": "h", "y": 1.06},
        "plot_bgcolor": "white",
        "xaxis": {"range": span, "zeroline": False},
        "yaxis": {"range": span, "scaleanchor": "x", "zeroline": False},
        "uirevision": "keep",
        **({"title": {"text": title, "x": 0.02, "font": {"size": 13}}} if title else {}),
    }
    return plot_data(traces, layout)


def loss_figure(history: list[dict[str, float]], ylabel: str) -> PlotData:
    """A live 2-D model's smoothed training loss against iterations."""
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": [h["iteration"] for h in history],
            "y": [round(h["loss"], 5) for h in history],
            "name": "loss (smoothed)",
            "line": {"color": "#2166ac"},
        }
    ]
    layout = {
        "height": 260,
        "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
        "plot_bgcolor": "white",
        "xaxis": {"title": {"text": "iteration"}},
        "yaxis": {"title": {"text": ylabel}, "rangemode": "tozero"},
        "title": {"text": "Training loss", "x": 0.02, "font": {"size": 13}},
    }
    return plot_data(data, layout)
