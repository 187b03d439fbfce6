"""Quality metrics shared by every generative tab and the benchmark.

One set of numbers for every model family, so a learner can compare a VAE, a GAN, a diffusion
model and a flow on equal terms:
- on the 2-D toy world (core/toy2d.py):
  - `mmd_rbf`: how far the samples' distribution is from the data's, as a single number
    (squared maximum mean discrepancy, Gretton et al. 2012, https://jmlr.org/papers/v13/gretton12a.html);
  - `mode_coverage`: the share of the data's modes the model reaches (mode collapse shows up here);
  - `share_near_modes`: the share of samples that land on some mode ("high-quality samples",
    the precision-like number of Srivastava et al. 2017, VEEGAN, https://arxiv.org/abs/1705.07761);
- on images, through the features of an evaluator network:
  - `frechet_distance`: the Fréchet distance between Gaussians fitted to two feature sets, the
    formula of FID (Heusel et al. 2017, https://arxiv.org/abs/1706.08500);
  - `class_histogram` / `class_coverage`: which classes the evaluator sees in the samples.

Conventions: sample sets are (n, d) tensors (or arrays), one row per sample; every metric returns
a plain Python float; lower is better for distances (MMD, FD), higher for shares. Everything is
computed on the CPU in float64 (tiny tensors; MPS has no float64), and no metric draws from a
global random state: the MMD subsample uses a fixed private generator, so a metric is a function.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from core.toy2d import Toy2D

MMD_MAX_POINTS = 2_000  # each set is subsampled to at most this many points: O(n^2) memory and time
MMD_SUBSAMPLE_SEED = 0
FRECHET_EPS = 1e-6  # added to the covariances' diagonals when their product has no finite square root


# -----------------------------------------------------------------------------
# small helpers


def _as_float64(samples, name: str = "samples") -> torch.Tensor:
    """A (n, d) float64 CPU tensor from a tensor or array of shape (n, d) (or (n,) for d = 1)."""
    x = samples if isinstance(samples, torch.Tensor) else torch.as_tensor(np.asarray(samples))
    x = x.detach().to("cpu", torch.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got {tuple(x.shape)}.")
    return x


def _subsample(x: torch.Tensor, max_points: int) -> torch.Tensor:
    """At most max_points rows of x, drawn without replacement by a fixed private generator."""
    if len(x) <= max_points:
        return x
    g = torch.Generator().manual_seed(MMD_SUBSAMPLE_SEED)
    return x[torch.randperm(len(x), generator=g)[:max_points]]


def _nearest_mode(samples, modes) -> tuple[torch.Tensor, torch.Tensor]:
    """For each sample, the index of its nearest mode and the distance to it. (n,), (n,)"""
    x, centres = _as_float64(samples), _as_float64(modes, "modes")
    if len(x) == 0:
        raise ValueError("There are no samples to measure.")
    if len(centres) == 0 or x.shape[1] != centres.shape[1]:
        raise ValueError(f"Need at least one mode of the samples' dimension {x.shape[1]}, got {tuple(centres.shape)}.")
    distance, index = torch.cdist(x, centres).min(dim=1)  # (n, k) -> (n,)
    return index, distance


# -----------------------------------------------------------------------------
# 2-D toy world


def mmd_rbf(x, y, bandwidths: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0), unbiased: bool = True) -> float:
    """Squared maximum mean discrepancy between samples x (n, d) and y (m, d), Gretton et al. 2012.

    The kernel is a sum of RBF kernels, one per bandwidth h, k(a, b) = sum_h exp(-|a - b|^2 / (2 h^2)),
    so both fine (mode-sized) and coarse (layout-sized) differences count.

    With `unbiased` (the default) this is the unbiased estimator MMD_u^2 (eq. 3 of the paper), a
    U-statistic that leaves out the diagonals k(x_i, x_i) and k(y_j, y_j):
        1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j) - 2/(nm) sum_{i, j} k(x_i, y_j).
    Its mean is exactly the population MMD^2, 0 when both sets come from the same distribution,
    so it can come out slightly negative. With unbiased=False the diagonals stay in (the V-statistic
    MMD_b^2, eq. 5), which is never negative and exactly 0 for mmd_rbf(x, x), but is biased upwards.

    Each set is subsampled to at most MMD_MAX_POINTS rows by a fixed private generator.
    """
    x = _subsample(_as_float64(x, "x"), MMD_MAX_POINTS)
    y = _subsample(_as_float64(y, "y"), MMD_MAX_POINTS)
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        raise ValueError(f"MMD needs at least 2 samples in each set, got {n} and {m}.")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"The two sets have different dimensions: {x.shape[1]} and {y.shape[1]}.")

    def mean_kernel(d2: torch.Tensor) -> float:
        """Mean of k over squared distances d2: sum over the bandwidths of exp(-d2 / (2 h^2))."""
        return sum(float(torch.exp(d2 * (-0.5 / h**2)).mean()) for h in bandwidths)

    # k is symmetric, so the mean over pairs i != j is the mean over pairs i < j: pdist's
    # n(n-1)/2 distances, which leave out the diagonal k(x_i, x_i) = len(bandwidths) by construction
    k_xx = mean_kernel(torch.pdist(x).square())  # pairs i < j of x
    k_yy = mean_kernel(torch.pdist(y).square())
    k_xy = mean_kernel(torch.cdist(x, y).square())  # all n * m pairs
    if not unbiased:  # put the diagonal back: (n(n-1) off-diagonal terms + n diagonal terms) / n^2
        k_xx = ((n - 1) * k_xx + len(bandwidths)) / n
        k_yy = ((m - 1) * k_yy + len(bandwidths)) / m
    return k_xx + k_yy - 2 * k_xy


def mode_coverage(samples, modes, mode_std: float, k_sigma: float = 3.0, min_count: int = 1) -> float:
    """Share of modes with at least `min_count` samples within k_sigma * mode_std of their centre.

    Each sample counts for its nearest mode only, and only if it lies within the radius.
    """
    index, distance = _nearest_mode(samples, modes)
    n_modes = len(_as_float64(modes, "modes"))
    near = distance <= k_sigma * mode_std
    counts = torch.bincount(index[near], minlength=n_modes)  # (k,) samples that hit each mode
    return float((counts >= min_count).double().mean())


def share_near_modes(samples, modes, mode_std: float, k_sigma: float = 3.0) -> float:
    """Share of samples within k_sigma * mode_std of some mode: the "high-quality samples".

    For a 2-D Gaussian mode, a true sample lies within 3 sigma with probability 1 - exp(-9/2) = 98.9%.
    """
    _, distance = _nearest_mode(samples, modes)
    return float((distance <= k_sigma * mode_std).double().mean())


@dataclass(frozen=True)
class Metrics2D:
    mmd: float  # squared MMD to a fresh sample of the data (unbiased; ~0 is perfect)
    coverage: float | None  # share of modes reached, None when the data has no discrete modes
    near_modes: float | None  # share of samples on some mode, None when the data has no discrete modes


def metrics_2d(samples, data: Toy2D) -> Metrics2D:
    """All 2-D metrics of `samples` against the data set `data`."""
    mmd = mmd_rbf(samples, data.points)
    if data.modes is None or data.mode_std is None:
        return Metrics2D(mmd, None, None)
    coverage = mode_coverage(samples, data.modes, data.mode_std)
    near_modes = share_near_modes(samples, data.modes, data.mode_std)
    return Metrics2D(mmd, coverage, near_modes)


# -----------------------------------------------------------------------------
# images, through an evaluator's features and labels


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    """scipy's matrix square root, quietly: its warnings about singular input are handled by the caller."""
    from scipy import linalg  # imported lazily: only the image metrics need scipy

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return linalg.sqrtm(matrix)


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (n, d) and (m, d).

        FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))

    the formula of FID (Heusel et al. 2017) for any features. Computed in float64. When S_a S_b
    is singular and its square root is not finite, eps * I is added to both covariances first;
    the imaginary part numerical error leaves in the square root is dropped, and a tiny negative
    result (rounding) is clamped to 0.
    """
    a = _as_float64(feats_a, "feats_a").numpy()
    b = _as_float64(feats_b, "feats_b").numpy()
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"The Fréchet distance needs at least 2 samples in each set, got {len(a)} and {len(b)}.")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"The two feature sets have different dimensions: {a.shape[1]} and {b.shape[1]}.")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("The features contain NaN or infinite values.")
    # 1. fit a Gaussian to each set: mean (d,) and covariance (d, d)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    sigma_a = np.atleast_2d(np.cov(a, rowvar=False))
    sigma_b = np.atleast_2d(np.cov(b, rowvar=False))
    # 2. the cross term (S_a S_b)^(1/2), regularised if it is not finite
    covmean = _sqrtm(sigma_a @ sigma_b)
    if not np.isfinite(covmean).all():
        offset = FRECHET_EPS * np.eye(len(sigma_a))
        covmean = _sqrtm((sigma_a + offset) @ (sigma_b + offset))
    covmean = np.real(covmean)
    # 3. the distance
    diff = mu_a - mu_b
    distance = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2 * np.trace(covmean)
    return max(float(distance), 0.0)


def _class_counts(labels, n_classes: int) -> torch.Tensor:
    """How many labels fall in each class 0 .. n_classes - 1. (n_classes,) int64"""
    labels = torch.as_tensor(labels).detach().cpu().reshape(-1)
    if labels.numel() == 0:
        raise ValueError("There are no labels to count.")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"Labels must be integers, got {labels.dtype}.")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"Labels must lie in 0 .. {n_classes - 1}, got {int(labels.min())} .. {int(labels.max())}.")
    return torch.bincount(labels.long(), minlength=n_classes)


def class_histogram(labels, n_classes: int) -> torch.Tensor:
    """Share of the labels in each class 0 .. n_classes - 1: an (n_classes,) float32 tensor summing to 1."""
    counts = _class_counts(labels, n_classes).double()
    return (counts / counts.sum()).float()


def class_coverage(labels, n_classes: int, min_share: float = 0.02) -> float:
    """Share of the n_classes classes that receive at least `min_share` of the labels."""
    counts = _class_counts(labels, n_classes)
    return float((counts >= min_share * counts.sum()).double().mean())
