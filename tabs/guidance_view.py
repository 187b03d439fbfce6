"""Pictures of the guidance tab: image grids, the x0 preview strip, the noise-prediction view, the sweep grid.

Images arrive as uint8 (N, H, W, 3) arrays (core.guidance_run); small ones (TinySD's 32 x 32) are
enlarged with sharp pixels, big ones (SD's 512 x 512) shrunk in strips. Everything is RGB.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np
import torch
from PIL import Image, ImageDraw

from core.guidance_run import Run, Step, Sweep

CELL = 128  # pixels per image in grids and strips
LABEL = 16  # height of a label line
WHITE, GREY = (255, 255, 255), (90, 90, 90)


def _cell(picture: np.ndarray, size: int = CELL) -> Image.Image:
    image = Image.fromarray(picture)
    resample = Image.Resampling.NEAREST if picture.shape[0] < size else Image.Resampling.LANCZOS
    return image.resize((size, size), resample)


def _canvas(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    canvas = Image.new("RGB", (width, height), WHITE)
    return canvas, ImageDraw.Draw(canvas)


def images_grid(pictures: np.ndarray, labels: list[str] | None = None, size: int = CELL) -> np.ndarray:
    """The images side by side (at most 4 per row), each with its label (e.g. its seed) below."""
    n = len(pictures)
    columns = min(n, 4)
    rows = -(-n // columns)
    canvas, draw = _canvas(columns * (size + 6) + 6, rows * (size + LABEL + 6) + 6)
    for i, picture in enumerate(pictures):
        r, c = divmod(i, columns)
        x, y = 6 + c * (size + 6), 6 + r * (size + LABEL + 6)
        canvas.paste(_cell(picture, size), (x, y))
        if labels:
            draw.text((x + 2, y + size + 2), labels[i], fill=(0, 0, 0))
    return np.asarray(canvas)


def preview_strip(run: Run, max_columns: int = 10, max_rows: int = 4, size: int = 80) -> np.ndarray:
    """Rows: the first images of the batch; columns: the decoded predicted x0 at evenly spaced steps, then the result."""
    kept = [s for s in run.steps if s.preview is not None]
    if not kept:
        return np.full((size, size, 3), 255, dtype=np.uint8)
    if len(kept) > max_columns:
        kept = [kept[round(i * (len(kept) - 1) / (max_columns - 1))] for i in range(max_columns)]
    n = min(len(kept[0].preview), max_rows)
    columns = len(kept) + (1 if run.done else 0)
    canvas, draw = _canvas(60 + columns * (size + 4), LABEL + n * (size + 4) + 4)
    for c, step in enumerate(kept):
        x = 60 + c * (size + 4)
        draw.text((x + 2, 2), f"step {step.index + 1}", fill=(0, 0, 0))
        for r in range(n):
            canvas.paste(_cell(step.preview[r], size), (x, LABEL + r * (size + 4)))
    if run.done:
        x = 60 + len(kept) * (size + 4)
        draw.text((x + 2, 2), "result", fill=(0, 0, 0))
        for r in range(n):
            canvas.paste(_cell(run.images[r], size), (x, LABEL + r * (size + 4)))
    for r in range(n):
        draw.text((4, LABEL + r * (size + 4) + size // 2 - 6), f"seed {run.settings.seed + r}", fill=(0, 0, 0))
    return np.asarray(canvas)


def _diverging(values: torch.Tensor, limit: float, size: int) -> Image.Image:
    """A (h, w) map: blue below 0, white at 0, red above, saturating at +-limit."""
    v = (values / max(limit, 1e-8)).clamp(-1, 1).numpy()
    red = np.where(v > 0, 255, 255 * (1 + v))
    blue = np.where(v < 0, 255, 255 * (1 - v))
    green = 255 * (1 - np.abs(v))
    rgb = np.stack([red, green, blue], axis=-1).round().astype(np.uint8)
    return _cell(rgb, size)


def noise_view(run: Run, step: Step, decoded: dict[str, np.ndarray], size: int = 72) -> np.ndarray:
    """One step of image 0: the noise predictions (rows) per latent channel (columns), blue-white-red on one
    colour scale, and beside each row the clean image it implies (decoded)."""
    rows = [("unconditional (negative prompt)", step.uncond), ("conditional (prompt)", step.cond)]
    rows.append(("guided", step.guided))
    if step.uncond is not None:
        rows.append(("cond - uncond (what the prompt adds)", step.cond - step.uncond))
    channels = min(step.cond.shape[0], 4)
    present = [r for r in rows if r[1] is not None]
    limit = float(max(r[1][:channels].abs().max() for r in present))
    canvas, draw = _canvas(230 + (channels + 1) * (size + 4), LABEL + len(rows) * (size + LABEL + 4))
    for c in range(channels):
        draw.text((230 + c * (size + 4), 2), f"channel {c}", fill=(0, 0, 0))
    draw.text((230 + channels * (size + 4), 2), "implied x0", fill=(0, 0, 0))
    for r, (name, values) in enumerate(rows):
        y = LABEL + r * (size + LABEL + 4)
        draw.text((4, y + size // 2 - 6), textwrap.shorten(name, 36), fill=(0, 0, 0))
        if values is None:
            draw.text((230, y + size // 2 - 6), "no guidance at this step: only the conditional prediction", fill=GREY)
            continue
        for c in range(channels):
            canvas.paste(_diverging(values[c], limit, size), (230 + c * (size + 4), y))
        key = name.split(" ")[0]
        if key in decoded:
            canvas.paste(_cell(decoded[key], size), (230 + channels * (size + 4), y))
    draw.text((4, canvas.height - 14), f"colour scale: +-{limit:.2f} (red > 0 > blue)", fill=GREY)
    return np.asarray(canvas)


def sweep_grid(result: Sweep, size: int = 96) -> np.ndarray:
    """Rows: sampler and guidance scale; columns: seeds (the same seed down a column); axes labelled."""
    left, top = 130, 2 * LABEL + 4
    rows = [(scheduler, scale) for scheduler in result.schedulers for scale in result.scales]
    columns = len(result.seeds)
    canvas, draw = _canvas(left + columns * (size + 4) + 4, top + len(rows) * (size + 4) + 3 * LABEL)
    draw.text((left, 2), "seed (fixed down each column) ->", fill=(0, 0, 0))
    for c, seed in enumerate(result.seeds):
        draw.text((left + c * (size + 4) + 2, LABEL + 2), str(seed), fill=(0, 0, 0))
    for r, (scheduler, scale) in enumerate(rows):
        y = top + r * (size + 4)
        label = f"CFG {scale:g}" if len(result.schedulers) == 1 else f"{scheduler}, CFG {scale:g}"
        draw.text((4, y + size // 2 - 6), label, fill=(0, 0, 0))
        for c in range(columns):
            canvas.paste(_cell(result.cells[(scheduler, scale)][c], size), (left + c * (size + 4), y))
    settings = result.settings
    caption = f"prompt {settings.prompt!r}" + (f", negative {settings.negative!r}" if settings.negative else "")
    samplers = settings.scheduler if len(result.schedulers) == 1 else "samplers by row"
    caption += f"; {samplers}, {settings.steps} steps" + (f", rescale {settings.rescale:g}" if settings.rescale else "")
    caption = textwrap.wrap(caption, 90)
    for i, line in enumerate(caption[:2]):
        draw.text((4, canvas.height - (2 - i) * LABEL), line, fill=GREY)
    return np.asarray(canvas)


def gif_of_strip(run: Run, caption: str, size: int = 96) -> bytes:
    """The denoising as an animation: the first images' predicted x0 at each kept step, then the result held."""
    kept = [s.preview for s in run.steps if s.preview is not None] + [run.images]
    n = min(len(run.images), 4)
    lines = textwrap.wrap(caption, max(20, n * (size + 4) // 6))[:4]
    frames = []
    for previews in kept:
        canvas, draw = _canvas(n * (size + 4) + 4, size + 8 + 12 * len(lines))
        for i in range(n):
            canvas.paste(_cell(previews[i], size), (4 + i * (size + 4), 4))
        for j, line in enumerate(lines):
            draw.text((4, size + 6 + 12 * j), line, fill=(0, 0, 0))
        frames.append(canvas)
    buffer = io.BytesIO()
    durations = [100] * (len(frames) - 1) + [1500]
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return buffer.getvalue()


FIELD_COLOURS = {"unconditional": "#969696", "conditional": "#2171b5", "guided": "#cb181d"}


def fields_figure(fields, samples, data: torch.Tensor, mode: torch.Tensor, scale: float, t: float, shown=None):
    """The velocity fields (`shown`: which of the three; all by default) at time t over the data, the chosen
    mode ringed, and where guided samples land."""
    from core import toy2d
    from tabs.toy_views import _xy, arrow_traces, plot_data

    dx, dy = _xy(data[:1_000])
    traces = [
        {
            "type": "scattergl",
            "mode": "markers",
            "x": dx,
            "y": dy,
            "name": "data",
            "marker": {"size": 3, "color": "#c6dbef"},
        }
    ]
    for name, vectors in (("unconditional", fields.uncond), ("conditional", fields.cond), ("guided", fields.guided)):
        if shown and name not in shown:
            continue
        label = f"{name} v" if name != "guided" else f"guided v = uncond + {scale:g} × (cond − uncond)"
        traces += arrow_traces(fields.points, vectors, label, FIELD_COLOURS[name])
    ex, ey = _xy(samples.path[-1])
    traces.append(
        {"type": "scattergl", "mode": "markers", "x": ex, "y": ey, "name": "guided samples at t = 1",
         "marker": {"size": 4, "color": "#000000", "symbol": "x"}}
    )  # fmt: skip
    mx, my = mode.tolist()
    span = [toy2d.PLOT_RANGE[0] - 0.5, toy2d.PLOT_RANGE[1] + 0.5]
    layout = {
        "height": 620,
        "margin": {"l": 40, "r": 10, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": 1.08},
        "plot_bgcolor": "white",
        "xaxis": {"range": span, "zeroline": False, "constrain": "domain"},
        "yaxis": {"range": span, "scaleanchor": "x", "zeroline": False},
        "shapes": [
            {
                "type": "circle",
                "x0": mx - 0.5,
                "x1": mx + 0.5,
                "y0": my - 0.5,
                "y1": my + 0.5,
                "line": {"color": "#2171b5", "dash": "dot"},
            }
        ],
        "title": {"text": f"Velocity fields at t = {t:.2f} (0 = noise, 1 = data)", "x": 0.02, "font": {"size": 13}},
        "uirevision": "keep",
    }
    return plot_data(traces, layout)
