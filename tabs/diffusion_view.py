"""Pictures of the diffusion tab: tensors in, pixels and plotly figures out. No model calls.

- the schedules (beta_t, alpha-bar_t, log-SNR) with the current t marked;
- the three lanes of a kept step (x_t, x0_hat, eps), each a tile of the batch, with headers;
- two endings side by side (a run and its branch);
- the 2-D model's loss (its particles are drawn by tabs.toy_views, shared with the flow tab);
- a GIF of a whole timeline, stamped with what made it.
"""

from __future__ import annotations

import numpy as np
import torch
from gradio.components.plot import PlotData
from PIL import Image, ImageDraw

from core import diffusion
from tabs import image_views
from tabs.image_views import grid_columns, headed, side_by_side, tile
from tabs.toy_views import plot_data

EPS_DISPLAY_RANGE = 2.5  # the noise lane shows eps / 2.5, so +-2.5 standard deviations fill black to white


def schedule_figure(t: int) -> PlotData:
    """beta_t, alpha-bar_t and log-SNR of both schedules against t, the chosen t as a vertical line."""
    steps = [*range(0, diffusion.T, 5), diffusion.T - 1]
    colours = {"linear": "#2166ac", "cosine": "#b2182b"}
    data = []
    for name in diffusion.SCHEDULES:
        s = diffusion.make_schedule(name)
        for values, axis, show in (
            (s.betas, "", True),
            (s.alphas_cumprod, "2", False),
            (s.log_snr, "3", False),
        ):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": steps,
                    "y": [round(float(values[i]), 6) for i in steps],
                    "name": name,
                    "legendgroup": name,
                    "showlegend": show,
                    "line": {"color": colours[name]},
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                }
            )
    marker = {"type": "line", "x0": t, "x1": t, "y0": 0, "y1": 1, "line": {"color": "#444", "dash": "dot"}}
    layout = {
        "height": 460,
        "margin": {"l": 60, "r": 10, "t": 30, "b": 40},
        "legend": {"orientation": "h", "y": 1.08},
        "plot_bgcolor": "white",
        "xaxis": {"anchor": "y", "matches": "x3", "showticklabels": False},
        "yaxis": {"domain": [0.7, 1.0], "type": "log", "title": {"text": "β_t"}},
        "xaxis2": {"anchor": "y2", "matches": "x3", "showticklabels": False},
        "yaxis2": {"domain": [0.36, 0.64], "title": {"text": "ᾱ_t"}, "range": [0, 1.02]},
        "xaxis3": {"anchor": "y3", "title": {"text": "timestep t"}},
        "yaxis3": {"domain": [0.0, 0.3], "title": {"text": "log SNR"}},
        "shapes": [{**marker, "xref": axis, "yref": "paper"} for axis in ("x", "x2", "x3")],
    }
    return plot_data(data, layout)


def lanes_image(kept: diffusion.Kept, scale: int = 3) -> np.ndarray:
    """The three lanes of one kept step: the sample x_t, the model's x0_hat, its noise guess eps."""
    columns = grid_columns(len(kept.x_t))
    lanes = [
        (f"x_t  (t = {kept.t})", kept.x_t.clamp(-1, 1)),
        ("predicted x0", kept.x0.clamp(-1, 1)),
        ("predicted noise", (kept.eps / EPS_DISPLAY_RANGE).clamp(-1, 1)),
    ]
    return side_by_side([headed(tile(images, columns, scale=scale), label) for label, images in lanes])


def endings_image(first: torch.Tensor, second: torch.Tensor, first_label: str, second_label: str) -> np.ndarray:
    """Two batches of final samples side by side (a run and its branch)."""
    columns = grid_columns(len(first))
    return side_by_side(
        [
            headed(tile(first.clamp(-1, 1), columns, scale=3), first_label),
            headed(tile(second.clamp(-1, 1), columns, scale=3), second_label),
        ]
    )


def forward_image(x0: torch.Tensor, noise: torch.Tensor, t: int) -> np.ndarray:
    """One image at timestep t under both schedules (same noise), and a strip of t = 0 .. 999 for each."""
    big, rows = [], []
    marks = [0, 100, 250, 500, 750, 900, 999]
    for name in diffusion.SCHEDULES:
        s = diffusion.make_schedule(name)
        x_t = diffusion.q_sample(s, x0, t, noise)
        big.append(headed(tile(x_t, 1, scale=8), f"{name}: t = {t}, alpha-bar = {s.alpha_bar(t):.3f}"))
        strip = torch.cat([diffusion.q_sample(s, x0, m, noise) for m in marks])
        rows.append(headed(tile(strip, len(marks), scale=3), f"{name}: t = " + ", ".join(map(str, marks))))
    top = side_by_side(big)
    bottom = np.vstack(rows)
    width = max(top.shape[1], bottom.shape[1])
    return np.vstack(
        [np.pad(part, ((0, 8), (0, width - part.shape[1])), constant_values=255) for part in (top, bottom)]
    )


def forward_points_image(points: torch.Tensor, noise: torch.Tensor, t: int, size: int = 300) -> np.ndarray:
    """2-D data (model space) at timestep t under both schedules (same noise), drawn as dots."""
    from core import toy2d
    from core.diffusion2d import DATA_SCALE

    panels = []
    low, high = toy2d.PLOT_RANGE[0] - 1.5, toy2d.PLOT_RANGE[1] + 1.5
    for name in diffusion.SCHEDULES:
        s = diffusion.make_schedule(name)
        x_t = diffusion.q_sample(s, points, t, noise) * DATA_SCALE  # back to plot space
        canvas = Image.new("L", (size, size), 255)
        draw = ImageDraw.Draw(canvas)
        pixels = ((x_t - low) / (high - low) * (size - 1)).round().tolist()
        for x, y in pixels:
            if 0 <= x < size and 0 <= y < size:
                draw.ellipse((x - 1.5, size - 1 - y - 1.5, x + 1.5, size - 1 - y + 1.5), fill=40)
        panels.append(headed(np.asarray(canvas), f"{name}: t = {t}, alpha-bar = {s.alpha_bar(t):.3f}"))
    return side_by_side(panels)


def quality_figure(table: dict) -> PlotData:
    """Class accuracy and FD-classifier against the number of steps, one line per sampler (benchmark data)."""
    colours = {"ddpm": "#1b9e77", "ddim": "#d95f02", "euler": "#7570b3", "dpm++2m": "#e7298a"}
    lines = [
        (
            title.split(" (")[0],
            [r for r in table["rows"] if r["sampler"] == sampler],
            colours.get(sampler, "#444"),
            "solid",
        )
        for sampler, title in diffusion.SAMPLERS.items()
    ]
    title = f"Quality vs steps ({table['samples']} {table['dataset']} samples per point; measured by the benchmark)"
    return image_views.quality_figure(lines, title, "sampling steps (network evaluations)", "steps")
