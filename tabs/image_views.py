"""Pictures of 28x28 images shared by the image tabs (VAE, GAN, diffusion, flow): tensors in, pixels out."""

from __future__ import annotations

import io
import math
import textwrap

import numpy as np
import torch
from gradio.components.plot import PlotData
from PIL import Image, ImageDraw

from core import images

# Ten well-separated colours (Tableau 10), one per class.
CLASS_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
UPSCALE = 6  # pixels per image pixel in enlarged single images
HEADER = 20  # height of the white strip `headed` writes a label in


def enlarge(image: torch.Tensor, scale: int = UPSCALE) -> np.ndarray:
    """One image (1, H, W) or (H, W) in [-1, 1] -> uint8 (H s, W s) with sharp pixels."""
    pixels = images.to_pixels(image.reshape(1, 1, *image.shape[-2:]))[0]
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))


def tile(batch: torch.Tensor, columns: int, pad: int = 2, scale: int = 2) -> np.ndarray:
    """Images (N, 1, 28, 28) in [-1, 1] -> one uint8 picture, `columns` per row, grey gaps."""
    pixels = images.to_pixels(batch)
    n = len(pixels)
    rows = -(-n // columns)
    size = 28 + pad
    canvas = np.full((rows * size + pad, columns * size + pad), 90, dtype=np.uint8)
    for i, picture in enumerate(pixels):
        r, c = divmod(i, columns)
        canvas[pad + r * size : pad + r * size + 28, pad + c * size : pad + c * size + 28] = picture
    return np.kron(canvas, np.ones((scale, scale), dtype=np.uint8))


def strip_with_labels(rows: list[tuple[str, torch.Tensor]], scale: int = 3) -> np.ndarray:
    """Rows of frames (each (K, 1, 28, 28)) stacked, each row headed by its label."""
    pictures = [tile(frames, columns=len(frames), scale=scale) for _, frames in rows]
    width = max(p.shape[1] for p in pictures)
    label_height = 18
    out = []
    for (label, _), picture in zip(rows, pictures, strict=True):
        header = Image.new("L", (width, label_height), 255)
        ImageDraw.Draw(header).text((4, 3), label, fill=0)
        out.append(np.asarray(header))
        out.append(np.pad(picture, ((0, 0), (0, width - picture.shape[1])), constant_values=255))
    return np.vstack(out)


def gif_bytes(frames: torch.Tensor, caption: str, scale: int = 6, seconds_per_frame: float = 0.12) -> bytes:
    """An animated GIF (forward then back) of frames (K, 1, 28, 28), the caption stamped below."""
    pictures = [Image.fromarray(enlarge(f, scale)) for f in frames]
    pictures = pictures + pictures[-2:0:-1]  # play back and forth
    width = pictures[0].width
    lines = textwrap.wrap(caption, max(8, width // 6))[:6]  # PIL's default font: ~6 px per character
    stamped = []
    for picture in pictures:
        canvas = Image.new("L", (width, picture.height + 4 + 12 * len(lines)), 255)
        canvas.paste(picture, (0, 0))
        draw = ImageDraw.Draw(canvas)
        for i, line in enumerate(lines):
            draw.text((3, picture.height + 2 + 12 * i), line, fill=0)
        stamped.append(canvas)
    buffer = io.BytesIO()
    stamped[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=stamped[1:],
        duration=int(seconds_per_frame * 1000),
        loop=0,
    )
    return buffer.getvalue()


def headed(picture: np.ndarray, text: str) -> np.ndarray:
    """A white strip with `text` above a greyscale picture."""
    head = Image.new("L", (picture.shape[1], HEADER), 255)
    ImageDraw.Draw(head).text((4, 4), text, fill=0)
    return np.vstack([np.asarray(head), picture])


def stamped(picture: np.ndarray, caption: str) -> np.ndarray:
    """An RGB copy of `picture` (greyscale or RGB(A)) with `caption` written below it: what made an export.

    Line breaks in the caption are kept; long lines wrap to the picture's width (PIL's default
    font, about 6 px per character).
    """
    rgb = np.repeat(picture[..., None], 3, axis=-1) if picture.ndim == 2 else picture[..., :3]
    width = max(rgb.shape[1], 240)
    rgb = np.pad(rgb, ((0, 0), (0, width - rgb.shape[1]), (0, 0)), constant_values=255)
    lines = [line for part in caption.split("\n") for line in textwrap.wrap(part, (width - 8) // 6) or [""]]
    strip = Image.new("RGB", (width, 8 + 12 * len(lines)), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    for i, line in enumerate(lines):
        draw.text((4, 4 + 12 * i), line, fill=(0, 0, 0))
    return np.vstack([rgb, np.asarray(strip)])


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def side_by_side(pictures: list[np.ndarray], gap: int = 12) -> np.ndarray:
    """Greyscale pictures in a row, top-aligned, white between them."""
    height = max(p.shape[0] for p in pictures)
    padded = [np.pad(p, ((0, height - p.shape[0]), (0, gap)), constant_values=255) for p in pictures]
    return np.hstack(padded)[:, :-gap]


def grid_columns(n: int) -> int:
    """Columns of a near-square grid of n images."""
    return max(1, math.ceil(math.sqrt(n)))


def gif_of_pictures(pictures: list[np.ndarray], caption: str, seconds_per_frame: float = 0.08) -> bytes:
    """An animated GIF of greyscale pictures (a run's steps, holding the last frame), the caption stamped below."""
    width = pictures[0].shape[1]
    lines = textwrap.wrap(caption, max(8, width // 6))[:4]
    frames = []
    for picture in pictures:
        canvas = Image.new("L", (width, picture.shape[0] + 4 + 12 * len(lines)), 255)
        canvas.paste(Image.fromarray(picture), (0, 0))
        draw = ImageDraw.Draw(canvas)
        for i, line in enumerate(lines):
            draw.text((3, picture.shape[0] + 2 + 12 * i), line, fill=0)
        frames.append(canvas)
    durations = [int(seconds_per_frame * 1000)] * (len(frames) - 1) + [1500]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return buffer.getvalue()


def quality_figure(lines: list[tuple[str, list[dict], str, str]], title: str, x_title: str, x_key: str) -> PlotData:
    """Class accuracy (top) and FD-classifier (bottom) against cost, one line per (name, rows, colour, dash);
    rows are benchmark rows with `x_key`, class_accuracy and fd_classifier."""
    from tabs.toy_views import plot_data

    data = []
    for name, rows, colour, dash in lines:
        for key, axis, show in (("class_accuracy", "", True), ("fd_classifier", "2", False)):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": [r[x_key] for r in rows],
                    "y": [r[key] for r in rows],
                    "name": name,
                    "legendgroup": name,
                    "showlegend": show,
                    "line": {"color": colour, "dash": dash},
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                }
            )
    layout = {
        "height": 420,
        "margin": {"l": 60, "r": 10, "t": 50, "b": 40},
        "title": {"text": title, "x": 0.02, "font": {"size": 13}},
        "legend": {"orientation": "h", "y": 1.1},
        "plot_bgcolor": "white",
        "xaxis": {"type": "log", "anchor": "y", "matches": "x2", "showticklabels": False},
        "yaxis": {"domain": [0.55, 1.0], "title": {"text": "class accuracy"}, "range": [0, 1.02]},
        "xaxis2": {"type": "log", "anchor": "y2", "title": {"text": x_title}},
        "yaxis2": {"domain": [0.0, 0.45], "type": "log", "title": {"text": "FD-classifier"}},
    }
    return plot_data(data, layout)
