"""The shared 2-D toy world: one set of point clouds for the VAE, GAN, diffusion and flow tabs.

Every generative tab trains on, samples and is measured against the same distributions, so a
learner can compare the families honestly (does the GAN drop modes of "8gaussians" where the
diffusion model does not?). The distributions are the classic benchmarks of the papers:
- "8gaussians": 8 Gaussians on a circle, the mode-collapse test of the GAN literature
  (Metz et al. 2017, Unrolled GANs, https://arxiv.org/abs/1611.02163);
- "ring": 24 narrower Gaussians on a wider circle, harder to cover;
- "moons", "spiral", "checkerboard", "swissroll": the 2-D benchmarks of the flow literature
  (FFJORD, Grathwohl et al. 2019, https://arxiv.org/abs/1810.01367);
- "clusters": two Gaussians far apart, to watch how a model (or a flow's coupling) moves mass
  across the empty gap between them;
- "drawn": whatever the learner draws (`points_from_drawing`).

Conventions:
- points are float32 tensors of shape (n, 2) on the CPU, x to the right and y up;
- every distribution fits in about [-4, 4]^2, so one plot range, `PLOT_RANGE`, serves all;
- randomness comes only from the `torch.Generator` passed in (same seed, same points);
- `modes` and `mode_std` are set only for mixtures of equal isotropic Gaussians, for the
  mode-coverage metrics of core/metrics.py; for every other distribution they are None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

PLOT_RANGE = (-4.5, 4.5)  # one axis range for every plot of this world
HALF_WIDTH = 4.0  # the distributions (and drawings) are scaled into [-HALF_WIDTH, HALF_WIDTH]^2
MAX_POINTS = 200_000

DISTRIBUTIONS: dict[str, str] = {
    "8gaussians": "8 Gaussians (circle)",
    "ring": "Ring of 24 Gaussians",
    "moons": "Two moons",
    "spiral": "Spiral",
    "checkerboard": "Checkerboard",
    "swissroll": "Swiss roll",
    "clusters": "Two far-apart clusters",
    "drawn": "Draw your own",
}

EMPTY_DRAWING = "The drawing is empty: draw some strokes first."


@dataclass(frozen=True)
class Toy2D:
    points: torch.Tensor  # (n, 2) float32
    modes: torch.Tensor | None  # (k, 2) mode centres, or None when the distribution has no discrete modes
    mode_std: float | None  # std of each mode (for the 3-sigma metrics), or None
    name: str


# -----------------------------------------------------------------------------
# small helpers


def _check_n(n: int) -> int:
    if isinstance(n, float) and n.is_integer():
        n = int(n)  # a UI slider may hand over 500.0
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_POINTS:
        raise ValueError(f"The number of points must be a whole number from 1 to {MAX_POINTS:,}, got {n!r}.")
    return int(n)


def _circle(k: int, radius: float) -> torch.Tensor:
    """k points evenly spaced on a circle, the first on the positive x axis. (k, 2)"""
    angles = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


def _mixture(name: str, modes: torch.Tensor, std: float, n: int, g: torch.Generator | None) -> Toy2D:
    """n points from an equal-weight mixture of isotropic Gaussians N(modes[j], std^2 I)."""
    which = torch.randint(len(modes), (n,), generator=g)  # (n,) the mode of each point
    points = modes[which] + std * torch.randn(n, 2, generator=g)
    return Toy2D(points, modes, std, name)


def _moons(n: int, g: torch.Generator | None) -> torch.Tensor:
    # sklearn's make_moons: an upper half circle and a lower one shifted right, centred and scaled x2
    upper = torch.rand(n, generator=g) < 0.5
    t = math.pi * torch.rand(n, generator=g)
    x = torch.where(upper, t.cos(), 1 - t.cos())
    y = torch.where(upper, t.sin(), 0.5 - t.sin())
    points = 2.0 * (torch.stack([x, y], dim=1) - torch.tensor([0.5, 0.25]))  # x in [-3, 3], y in [-1.5, 1.5]
    return points + 0.1 * torch.randn(n, 2, generator=g)


def _spiral(n: int, g: torch.Generator | None) -> torch.Tensor:
    # FFJORD's "2spirals": two interleaved arms r = theta, theta up to 3 pi, scaled by 1/3
    theta = torch.rand(n, generator=g).sqrt() * 3 * math.pi  # sqrt: even density along the arm
    arm = torch.stack([-theta.cos() * theta, theta.sin() * theta], dim=1) / 3
    sign = torch.where(torch.rand(n, generator=g) < 0.5, 1.0, -1.0)[:, None]  # the second arm: rotated 180°
    return sign * arm + 0.08 * torch.randn(n, 2, generator=g)


def _checkerboard(n: int, g: torch.Generator | None) -> torch.Tensor:
    # FFJORD's checkerboard, scaled x2: a 4 x 4 board of 2 x 2 squares on [-4, 4]^2 whose points
    # fill the 8 squares with floor(x/2) + floor(y/2) even
    x = 8 * torch.rand(n, generator=g) - 4
    lower = 2 * torch.randint(2, (n,), generator=g)  # 0: upper square of the column pair, 2: lower
    y = 2 * (torch.rand(n, generator=g) - lower + torch.floor(x / 2).remainder(2))  # odd columns: one square up
    return torch.stack([x, y], dim=1)


def _swissroll(n: int, g: torch.Generator | None) -> torch.Tensor:
    # sklearn's make_swiss_roll seen from its side: (t cos t, t sin t), t in [1.5 pi, 4.5 pi],
    # scaled by 1/4 and shifted so the roll is centred on the origin
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g))
    points = torch.stack([t * t.cos(), t * t.sin()], dim=1) / 4 - 0.4
    return points + 0.1 * torch.randn(n, 2, generator=g)


# -----------------------------------------------------------------------------
# draw your own


def drawn_mask(image) -> np.ndarray:
    """Which pixels of a drawing carry ink: a boolean (H, W) mask.

    With a partly transparent alpha channel (a sketch pad's RGBA layer), ink is alpha > 0.
    Otherwise (RGB, grey, or RGBA that is opaque everywhere) ink is any pixel whose colour
    differs by more than 32/255 in some channel from the most common colour, the background.
    """
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4) or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"A drawing must be an (H, W), (H, W, 3) or (H, W, 4) image, got shape {array.shape}.")
    values = array.astype(np.float64)
    if array.dtype.kind == "f" and values.size and values.max() <= 1.0:
        values = values * 255  # float images in [0, 1]
    if array.shape[2] in (2, 4):  # grey + alpha or RGBA
        alpha, values = values[:, :, -1], values[:, :, :-1]
        if (alpha < 255).any():
            return alpha > 0
    colours = np.round(values).clip(0, 255).astype(np.int64)  # (H, W, C)
    packed = (colours * (256 ** np.arange(colours.shape[2]))).sum(axis=2)  # one int per colour
    codes, counts = np.unique(packed, return_counts=True)
    background = codes[counts.argmax()] // 256 ** np.arange(colours.shape[2]) % 256  # (C,) unpacked
    return np.abs(colours - background).max(axis=2) > 32


def points_from_drawing(image, n: int, generator: torch.Generator | None = None, jitter: float = 0.03) -> Toy2D:
    """n points spread over the strokes of a drawing (an (H, W[, C]) uint8 image from a sketch pad).

    1. find the ink pixels (`drawn_mask`);
    2. pick n of them uniformly at random, with replacement;
    3. map pixel (row, col) to a uniform point inside that pixel in (x, y) coordinates: the longer
       side of the image spans [-4, 4], the aspect ratio is kept, y points up;
    4. add Gaussian jitter of std `jitter`, so the points form a smooth density.
    """
    n = _check_n(n)
    if image is None:
        raise ValueError(EMPTY_DRAWING)
    mask = drawn_mask(image)
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        raise ValueError(EMPTY_DRAWING)
    H, W = mask.shape
    pixel = 2 * HALF_WIDTH / max(H, W)  # side of one pixel in plot units
    # 2. uniform choice of ink pixels
    pick = torch.randint(len(rows), (n,), generator=generator)  # (n,)
    row = torch.from_numpy(rows).float()[pick]
    col = torch.from_numpy(cols).float()[pick]
    # 3. pixel -> plot coordinates, a uniform offset inside the pixel
    offset = torch.rand(n, 2, generator=generator)  # (n, 2) in [0, 1)
    x = (col + offset[:, 0] - W / 2) * pixel
    y = (H / 2 - row - offset[:, 1]) * pixel
    # 4. jitter
    points = torch.stack([x, y], dim=1) + jitter * torch.randn(n, 2, generator=generator)
    return Toy2D(points.float(), None, None, "drawn")


# -----------------------------------------------------------------------------
# the public entry points


def sample(name: str, n: int, generator: torch.Generator | None = None, drawing=None) -> Toy2D:
    """n points of the distribution `name` (a key of DISTRIBUTIONS); "drawn" needs `drawing`."""
    if name not in DISTRIBUTIONS:
        raise ValueError(f"Unknown 2-D distribution {name!r}; choose one of: {', '.join(DISTRIBUTIONS)}.")
    n = _check_n(n)
    g = generator
    if name == "8gaussians":
        return _mixture(name, _circle(8, 2.0), 0.1, n, g)
    if name == "ring":
        return _mixture(name, _circle(24, 3.0), 0.05, n, g)
    if name == "clusters":
        return _mixture(name, torch.tensor([[-2.5, 0.0], [2.5, 0.0]]), 0.4, n, g)
    if name == "drawn":
        if drawing is None:
            raise ValueError('The "drawn" distribution needs a drawing: draw some strokes on the canvas first.')
        return points_from_drawing(drawing, n, g)
    make = {"moons": _moons, "spiral": _spiral, "checkerboard": _checkerboard, "swissroll": _swissroll}[name]
    return Toy2D(make(n, g).float(), None, None, name)


def grid(
    xlim: tuple[float, float] = PLOT_RANGE, ylim: tuple[float, float] = PLOT_RANGE, steps: int = 64
) -> torch.Tensor:
    """A regular (steps * steps, 2) grid of points for heat maps and vector fields.

    Row-major with y the slow index: `grid(...).reshape(steps, steps, 2)[i, j]` is the point in
    row i (y from ylim[0] up to ylim[1]) and column j (x from xlim[0] to xlim[1]), which is what
    an image drawn with origin="lower" expects.
    """
    if steps < 2:
        raise ValueError(f"A grid needs at least 2 steps per axis, got {steps}.")
    xs = torch.linspace(xlim[0], xlim[1], steps)
    ys = torch.linspace(ylim[0], ylim[1], steps)
    y, x = torch.meshgrid(ys, xs, indexing="ij")  # (steps, steps) each
    return torch.stack([x, y], dim=-1).reshape(-1, 2)
