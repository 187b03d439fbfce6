"""Figures of the flow-matching tab (plain-dict plotly, tabs.toy_views.plot_data). No model calls."""

from __future__ import annotations

import torch
from gradio.components.plot import PlotData

from core import flow, toy2d
from tabs.toy_views import plot_data

DENSITY_TIMES = (0.0, 0.25, 0.5, 0.75, 1.0)
DENSITY_BINS = 40
SOLVER_COLOURS = {"euler": "#d95f02", "midpoint": "#7570b3", "rk4": "#1b9e77"}


def densities_figure(path: list[torch.Tensor], data: torch.Tensor) -> PlotData:
    """The particles' density at a few times from noise (t = 0) to data (t = 1), and the data's own."""
    steps = len(path) - 1
    panels = [(f"t = {t:g}", path[round(t * steps)]) for t in DENSITY_TIMES] + [("data", data[:1_000])]
    low, high = toy2d.PLOT_RANGE
    size = (high - low) / DENSITY_BINS
    traces, layout = [], {}
    width = 1 / len(panels)
    for i, (name, points) in enumerate(panels):
        axis = "" if i == 0 else str(i + 1)
        rounded = points.double().round(decimals=3)
        traces.append(
            {
                "type": "histogram2d",
                "x": rounded[:, 0].tolist(),
                "y": rounded[:, 1].tolist(),
                "xbins": {"start": low, "end": high, "size": size},
                "ybins": {"start": low, "end": high, "size": size},
                "colorscale": "Reds",
                "showscale": False,
                "name": name,
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
            }
        )
        layout[f"xaxis{axis}"] = {
            "domain": [i * width + 0.005, (i + 1) * width - 0.005],
            "range": [low, high],
            "showticklabels": False,
            "title": {"text": name},
        }
        layout[f"yaxis{axis}"] = {
            "anchor": f"x{axis}",
            "range": [low, high],
            "showticklabels": False,
            "scaleanchor": f"x{axis}",
        }
    layout.update(
        {"height": 230, "margin": {"l": 10, "r": 10, "t": 10, "b": 40}, "plot_bgcolor": "white", "showlegend": False}
    )
    return plot_data(traces, layout)


def solvers_figure(table: dict[str, list[dict]]) -> PlotData:
    """MMD to the data against network evaluations, one line per solver (same noise for every point)."""
    data = []
    for solver, rows in table.items():
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [r["evaluations"] for r in rows],
                "y": [round(r["mmd"], 5) for r in rows],
                "text": [f"{r['steps']} steps" for r in rows],
                "name": flow.SOLVERS[solver],
                "line": {"color": SOLVER_COLOURS.get(solver, "#444")},
            }
        )
    layout = {
        "height": 340,
        "margin": {"l": 60, "r": 10, "t": 40, "b": 40},
        "title": {"text": "Sample quality against cost", "x": 0.02, "font": {"size": 13}},
        "legend": {"orientation": "h", "y": -0.25},
        "plot_bgcolor": "white",
        "xaxis": {"type": "log", "title": {"text": "network evaluations"}},
        "yaxis": {"type": "log", "title": {"text": "MMD to the data"}},
    }
    return plot_data(data, layout)


def compare_figure(curves: dict[str, list[tuple[int, float]]]) -> PlotData:
    colours = ["#cb181d", "#2166ac"]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": [n for n, _ in rows],
            "y": [round(v, 5) for _, v in rows],
            "name": name,
            "line": {"color": colours[i % 2]},
        }
        for i, (name, rows) in enumerate(curves.items())
    ]
    layout = {
        "height": 340,
        "margin": {"l": 60, "r": 10, "t": 40, "b": 40},
        "title": {"text": "Same noise, same number of steps: MMD to the data", "x": 0.02, "font": {"size": 13}},
        "legend": {"orientation": "h", "y": -0.25},
        "plot_bgcolor": "white",
        "xaxis": {"type": "log", "title": {"text": "steps (one network evaluation each)"}},
        "yaxis": {"type": "log", "title": {"text": "MMD to the data"}},
    }
    return plot_data(data, layout)
