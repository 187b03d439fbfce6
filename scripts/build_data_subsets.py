"""Build the compact image subsets the app ships: assets/data/<name>-subset.npz.

    python -m scripts.build_data_subsets            # both data sets (needs `make data` first)

Each file holds uint8 arrays: 5,000 train and 1,000 test images with their labels, drawn
uniformly at random (seed 0) from the full sets, so class shares follow the full sets.
"""

from __future__ import annotations

import argparse

import numpy as np

from core import images
from core.assets import sha256_of

TRAIN_SIZE, TEST_SIZE, SEED = 5_000, 1_000, 0


def build(name: str) -> None:
    rng = np.random.default_rng(SEED)
    arrays = {}
    for split, size in (("train", TRAIN_SIZE), ("test", TEST_SIZE)):
        pixels, labels = images._full_pixels(name, split)
        pick = np.sort(rng.choice(len(labels), size=size, replace=False))
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = pixels[pick], labels[pick]
    path = images.subset_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    counts = np.bincount(arrays["train_labels"], minlength=10).tolist()
    print(f"{path}: {path.stat().st_size / 1e6:.2f} MB, sha256 {sha256_of(path)}, train class counts {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"data sets to build (default: all of {list(images.DATASETS)})")
    for name in parser.parse_args().names or list(images.DATASETS):
        images.info(name)  # a clear error for an unknown name
        build(name)


if __name__ == "__main__":
    main()
