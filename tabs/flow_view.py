"""Figures of the flow-matching tab (plain-dict plotly, tabs.toy_views.plot_data) and its image pictures. No model calls."""

from __future__ import annotations

import numpy as np
import torch
from gradio.components.plot import PlotData

from core import flow, toy2d
from core.flow_models import Frame, Race
from tabs import image_views
from tabs.image_views import grid_columns, headed, side_by_side, strip_with_labels, tile
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


# --- images ---


def frame_lanes_image(frame: Frame, scale: int = 3) -> np.ndarray:
    """Two lanes of one step of an image flow: the sample x_t and where the field points, x_t + (1 - t) v."""
    columns = grid_columns(len(frame.x_t))
    lanes = [
        (f"x_t  (t = {frame.t:.2f})", frame.x_t.clamp(-1, 1)),
        ("x_t + (1 - t) v: the straight-line guess", frame.x1.clamp(-1, 1)),
    ]
    return side_by_side([headed(tile(batch, columns, scale=scale), label) for label, batch in lanes])


def _path_rows(name: str, path: list[torch.Tensor], images: int, frames: int) -> list[tuple[str, torch.Tensor]]:
    """For the first `images` images of a run, `frames` evenly spaced points of their path, one row each."""
    picks = sorted({round(i * (len(path) - 1) / (frames - 1)) for i in range(frames)})
    return [
        (f"{name}, image {i + 1}", torch.cat([path[k][i : i + 1] for k in picks]).clamp(-1, 1)) for i in range(images)
    ]


def race_image(race: Race, images: int = 4, frames: int = 8) -> np.ndarray:
    """Both endings of a race side by side, and below them the paths of its first images, both methods."""
    evaluations = race.flow.evaluations
    columns = grid_columns(len(race.flow.final))
    endings = side_by_side(
        [
            headed(tile(race.ddim.final, columns, scale=3), f"diffusion: DDIM, {evaluations} evaluations"),
            headed(tile(race.flow.final, columns, scale=3), f"flow: Euler, {evaluations} evaluations"),
        ]
    )
    ddim_path = [k.x_t for k in race.ddim.kept] + [race.ddim.final]
    flow_path = [f.x_t for f in race.flow.frames] + [race.flow.final]
    images = min(images, len(race.flow.final))
    ddim_rows, flow_rows = _path_rows("DDIM", ddim_path, images, frames), _path_rows("flow", flow_path, images, frames)
    rows = [
        row for pair in zip(ddim_rows, flow_rows, strict=True) for row in pair
    ]  # the same noise, one above the other
    paths = strip_with_labels(rows, scale=2)
    width = max(endings.shape[1], paths.shape[1])
    return np.vstack(
        [np.pad(part, ((0, 10), (0, width - part.shape[1])), constant_values=255) for part in (endings, paths)]
    )


def image_quality_figure(flow_table: dict, diffusion_table: dict | None) -> PlotData:
    """Class accuracy and FD-classifier against network evaluations: the flow's solvers and the DDPM's DDIM."""
    lines = [
        (
            f"flow, {flow.SOLVERS[s].split(' (')[0]}",
            [r for r in flow_table["rows"] if r["solver"] == s],
            SOLVER_COLOURS[s],
            "solid",
        )
        for s in ("euler", "midpoint")
    ]
    if diffusion_table is not None and diffusion_table.get("dataset") == flow_table["dataset"]:
        ddim = [{**r, "evaluations": r["steps"]} for r in diffusion_table["rows"] if r["sampler"] == "ddim"]
        lines.append(("diffusion, DDIM", ddim, "#2166ac", "dot"))
    title = f"Quality vs cost ({flow_table['samples']} {flow_table['dataset']} samples per point; measured by the benchmark)"
    return image_views.quality_figure(lines, title, "network evaluations", "evaluations")
