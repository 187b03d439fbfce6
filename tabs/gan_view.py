"""Figures of the GAN tab: a Frame2D in, plotly figures out. No model calls.

The main picture (`field_image`, a server-drawn image) layers, bottom to top: the discriminator's
belief "real" as a heat map, the generator's image of a noise grid (its manifold, thin lines),
real points, generated points and the arrows showing where the generator's next update pushes
each generated point. The curves are plotly figures built from plain dicts (tabs.toy_views.plot_data).
"""

from __future__ import annotations

import numpy as np
import torch
from gradio.components.plot import PlotData
from PIL import Image, ImageDraw

from core import toy2d
from core.gan2d import GAN2D, Frame2D, GANConfig
from tabs.toy_views import plot_data

ARROW_POINTS = 100  # arrows drawn (of the SHOWN_POINTS generated points)
ARROW_LENGTH = 0.35  # plot units of the longest arrow


def curves_figure(history: list[dict[str, float]]) -> PlotData:
    """Losses (top) and the 2-D metrics (bottom) against generator steps."""
    data = []
    for key, name, colour, axes in (
        ("d_loss", "D loss", "#2166ac", ("x", "y")),
        ("g_loss", "G loss", "#b2182b", ("x", "y")),
        ("mmd", "MMD to data", "#4d4d4d", ("x2", "y2")),
        ("coverage", "modes covered", "#1b7837", ("x2", "y2")),
    ):
        points = [(h["step"], round(h[key], 5)) for h in history if h.get(key) is not None]
        if points:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": [p[0] for p in points],
                    "y": [p[1] for p in points],
                    "name": name,
                    "line": {"color": colour},
                    "xaxis": axes[0],
                    "yaxis": axes[1],
                }
            )
    layout = {
        "height": 520,
        "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
        "legend": {"orientation": "h", "y": 1.08},
        "plot_bgcolor": "white",
        "uirevision": "keep",
        "xaxis": {"anchor": "y", "matches": "x2", "showticklabels": False},
        "yaxis": {"domain": [0.55, 1.0], "title": {"text": "loss"}},
        "xaxis2": {"anchor": "y2", "title": {"text": "generator step"}},
        "yaxis2": {"domain": [0.0, 0.45], "title": {"text": "MMD / share"}, "rangemode": "tozero"},
    }
    return plot_data(data, layout)


# --- the live picture as an image: what streams ten times a second ---

FIELD_PIXELS = 480
_SURFACE_LOW = np.array([244, 165, 130], dtype=np.float32)  # D says "fake"
_SURFACE_MID = np.array([247, 247, 247], dtype=np.float32)
_SURFACE_HIGH = np.array([146, 197, 222], dtype=np.float32)  # D says "real"


def _to_pixels(points: torch.Tensor) -> np.ndarray:
    """Plane coordinates (n, 2) -> image pixels (n, 2), y up, PLOT_RANGE mapped to the image."""
    low, high = toy2d.PLOT_RANGE
    scaled = (points.detach().double().numpy() - low) / (high - low) * (FIELD_PIXELS - 1)
    scaled[:, 1] = FIELD_PIXELS - 1 - scaled[:, 1]
    return scaled


def field_image(frame: Frame2D, show: set[str] | None = None) -> np.ndarray:
    """The GAN Lab picture drawn server-side as an RGB array (FIELD_PIXELS square).

    A browser swaps an image in a millisecond, while redrawing a plotly figure of ~1,000 SVG
    marks ten times a second starved headless Chromium on a 2-core machine that also ran the
    server (the page fell seconds behind the stream and stopped answering clicks).
    """
    show = show if show is not None else {"surface", "manifold", "real", "fake", "arrows"}
    if "surface" in show:
        # coloured at the grid's own resolution, then enlarged: colouring 480 x 480 pixels cost ~15 ms a frame
        p = frame.surface.double().numpy()[::-1, :, None].astype(np.float32)  # rows bottom-up -> top-down
        colours = np.where(
            p < 0.5,
            _SURFACE_LOW + (_SURFACE_MID - _SURFACE_LOW) * (p / 0.5),
            _SURFACE_MID + (_SURFACE_HIGH - _SURFACE_MID) * ((p - 0.5) / 0.5),
        )
        small = Image.fromarray(np.ascontiguousarray(colours.round().astype(np.uint8)), "RGB")
        canvas = small.resize((FIELD_PIXELS, FIELD_PIXELS), Image.Resampling.BILINEAR)
    else:
        canvas = Image.new("RGB", (FIELD_PIXELS, FIELD_PIXELS), "white")
    draw = ImageDraw.Draw(canvas)
    if "manifold" in show:
        for line in frame.manifold:
            draw.line([tuple(p) for p in _to_pixels(line)], fill=(150, 120, 190), width=1)
    for key, points, colour in (("real", frame.real, (33, 102, 172)), ("fake", frame.fake, (178, 24, 43))):
        if key in show:
            for x, y in _to_pixels(points):
                draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=colour)
    if "arrows" in show:
        picked, push = frame.fake[:ARROW_POINTS], frame.arrows[:ARROW_POINTS]
        # absolute up to a cap: a vanishing gradient must look vanishing, not be rescaled to full length
        scale = ARROW_LENGTH / push.norm(dim=1).max().clamp_min(1.0)
        starts, ends = _to_pixels(picked), _to_pixels(picked + scale * push)
        for (x0, y0), (x1, y1) in zip(starts, ends, strict=True):
            draw.line((x0, y0, x1, y1), fill=(103, 0, 31), width=2)
    return np.asarray(canvas)


# --- the image GAN ---

CURVE_POINTS = 400  # loss curves are averaged into at most this many bins (a long run has 10,000 steps)


def _binned(steps: list[int], values: list[float]) -> tuple[list[float], list[float]]:
    """Mean step and mean value per bin: a smoothed curve of at most CURVE_POINTS points."""
    size = max(1, -(-len(values) // CURVE_POINTS))
    xs = [sum(steps[i : i + size]) / len(steps[i : i + size]) for i in range(0, len(steps), size)]
    ys = [round(sum(values[i : i + size]) / len(values[i : i + size]), 4) for i in range(0, len(values), size)]
    return xs, ys


def _histogram_trace(steps: list[int], histograms: list[list[float]], class_names, axes: tuple[str, str]) -> dict:
    return {
        "type": "heatmap",
        "x": steps,
        "y": list(class_names),
        "z": [[round(h[c], 3) for h in histograms] for c in range(len(class_names))],
        "colorscale": "Blues",
        "reversescale": True,  # plotly's Blues runs dark to light: pale = few samples
        "zmin": 0,
        "zmax": 0.3,
        "showscale": False,
        "hovertemplate": "step %{x}<br>%{y}: %{z:.1%} of samples<extra></extra>",
        "xaxis": axes[0],
        "yaxis": axes[1],
    }


def image_gan_figure(history: list[dict], fd_floor: float, class_names: tuple[str, ...]) -> PlotData:
    """A live image GAN's losses, its FD-classifier and its class histogram, against generator steps."""
    data: list[dict] = []
    for key, name, colour in (("d_loss", "D loss", "#2166ac"), ("g_loss", "G loss", "#b2182b")):
        rows = [(h["step"], h[key]) for h in history if key in h]
        if rows:
            xs, ys = _binned([r[0] for r in rows], [r[1] for r in rows])
            data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": name, "line": {"color": colour}})
    measured = [h for h in history if "fd" in h]
    if measured:
        steps = [h["step"] for h in measured]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": steps,
                "y": [round(h["fd"], 2) for h in measured],
                "name": "FD-classifier (lower is better)",
                "line": {"color": "#4d4d4d"},
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [steps[0], steps[-1]],
                "y": [round(fd_floor, 2)] * 2,
                "name": "FD of real test vs train images",
                "line": {"color": "#1b7837", "dash": "dot"},
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
        data.append(_histogram_trace(steps, [h["histogram"] for h in measured], class_names, ("x3", "y3")))
    layout = {
        "height": 620,
        "margin": {"l": 80, "r": 10, "t": 30, "b": 40},
        "legend": {"orientation": "h", "y": 1.07},
        "plot_bgcolor": "white",
        "uirevision": "keep",
        "xaxis": {"anchor": "y", "matches": "x3", "showticklabels": False},
        "yaxis": {"domain": [0.72, 1.0], "title": {"text": "loss"}},
        "xaxis2": {"anchor": "y2", "matches": "x3", "showticklabels": False},
        "yaxis2": {"domain": [0.4, 0.66], "title": {"text": "FD-classifier"}, "type": "log"},
        "xaxis3": {"anchor": "y3", "title": {"text": "generator step"}},
        "yaxis3": {"domain": [0.0, 0.34], "title": {"text": "predicted class"}, "autorange": "reversed"},
    }
    return plot_data(data, layout)


def snapshot_figure(scores: dict[int, dict], current: int, fd_floor: float, class_names: tuple[str, ...]) -> PlotData:
    """A shipped run: FD-classifier against step (current snapshot marked) and the current class shares."""
    steps = sorted(scores)
    shown = [max(s, 1) for s in steps]  # a log axis has no 0: step 0 is drawn at 1
    fds = [round(scores[s]["fd_classifier"], 2) for s in steps]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": shown,
            "y": fds,
            "name": "FD-classifier",
            "line": {"color": "#4d4d4d"},
            "hovertemplate": "step %{customdata}: FD %{y}<extra></extra>",
            "customdata": steps,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "x": [max(current, 1)],
            "y": [round(scores[current]["fd_classifier"], 2)],
            "name": "shown now",
            "marker": {"color": "#b2182b", "size": 14, "symbol": "circle-open", "line": {"width": 3}},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": [shown[0], shown[-1]],
            "y": [round(fd_floor, 2)] * 2,
            "name": "real test vs train images",
            "line": {"color": "#1b7837", "dash": "dot"},
        },
        {
            "type": "bar",
            "x": list(class_names),
            "y": [round(v, 4) for v in scores[current]["histogram"]],
            "marker": {"color": "#2166ac"},
            "name": f"class shares at step {current:,}",
            "xaxis": "x2",
            "yaxis": "y2",
        },
    ]
    layout = {
        "height": 520,
        "margin": {"l": 60, "r": 10, "t": 30, "b": 40},
        "legend": {"orientation": "h", "y": 1.1},
        "plot_bgcolor": "white",
        "xaxis": {"type": "log", "anchor": "y", "title": {"text": "generator step (log scale; step 0 drawn at 1)"}},
        "yaxis": {"domain": [0.55, 1.0], "type": "log", "title": {"text": "FD-classifier"}},
        "xaxis2": {"anchor": "y2"},
        "yaxis2": {"domain": [0.0, 0.36], "title": {"text": "share of samples"}, "rangemode": "tozero"},
    }
    return plot_data(data, layout)


def status_line(gan: GAN2D, note: str = "") -> str:
    """'Step N. D loss ..., G loss .... MMD ..., modes covered ...' and the note."""
    latest: dict[str, float] = {}  # the newest value of each loss (entries written by measure() carry none)
    for entry in reversed(gan.history):
        for key in ("d_loss", "g_loss"):
            if key in entry and key not in latest:
                latest[key] = entry[key]
        if len(latest) == 2:
            break
    losses = ", ".join(f"{k[0].upper()} loss {v:.3f}" for k, v in sorted(latest.items()))
    metrics = ""
    measured = [h for h in gan.history if h.get("mmd") is not None]
    if measured:
        m = measured[-1]
        metrics = f" MMD {m['mmd']:.4f}" + (
            f", modes covered {m['coverage']:.0%}" if m.get("coverage") is not None else ""
        )
    return (f"Step {gan.step:,}." + (f" {losses}." if losses else "") + f"{metrics} {note}").strip()


def describe(config: GANConfig) -> str:
    """The settings that made a picture, in one line (stamped on exports)."""
    text = (
        f"2-D GAN on {config.dataset}, {config.loss} loss, {config.optimizer} (lr G {config.lr_g:g}, D {config.lr_d:g}), "
        f"{config.d_steps} D step(s) per G step, {config.noise} noise of {config.noise_dim} dims, "
        f"{config.depth} hidden layer(s) of {config.hidden}, batch {config.batch_size}, seed {config.seed}"
    )
    return text + (f", gradient penalty {config.gp_weight:g}" if config.loss == "wgan-gp" else "")
