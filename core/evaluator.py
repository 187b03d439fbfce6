"""The honest judge of generated images: a small classifier per data set, and the metrics built on it.

Every image tab (VAE, GAN, diffusion, flow, guidance) and the benchmark score samples the same way:
- class accuracy: the share of class-conditional samples the classifier assigns to the asked class;
- FD-classifier: the Fréchet distance (core.metrics.frechet_distance) between the classifier's
  penultimate features (128-d) of generated and of real test images, a cheap analogue of FID
  (Heusel et al. 2017, which uses Inception features). Its floor, test vs train images, is what
  "as good as real data" looks like and is reported with it;
- class histogram / coverage of unconditional samples (mode coverage).

Images follow core.images' convention: (N, 1, 28, 28) float32 in [-1, 1].
The classifiers are trained by `python -m scripts.train evaluator --dataset mnist|fashion`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn

from core import assets, metrics
from core.device import get_device

FEATURE_DIM = 128


class Classifier(nn.Module):
    """Two conv blocks and an MLP head; `features` is the 128-d penultimate layer."""

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 64, 7, 7)
            nn.Flatten(), nn.Linear(64 * 7 * 7, FEATURE_DIM), nn.ReLU(),  # (B, 128)
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(FEATURE_DIM, n_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _read_evaluator(dataset: str) -> Classifier:
    from safetensors.torch import load_file

    model = Classifier()
    state = load_file(str(assets.get(f"evaluator-{dataset}").files[0].path()))
    model.load_state_dict({name: tensor.float() for name, tensor in state.items()})  # stored as fp16
    return model.eval().to(get_device())


def read_mnist_evaluator() -> Classifier:  # registry loader of "evaluator-mnist"
    return _read_evaluator("mnist")


def read_fashion_evaluator() -> Classifier:  # registry loader of "evaluator-fashion"
    return _read_evaluator("fashion")


def load_evaluator(dataset: str) -> Classifier:
    """The shipped classifier for `dataset` ('mnist' or 'fashion'), in eval mode, shared read-only."""
    return assets.load_embedded(f"evaluator-{dataset}")


@torch.no_grad()
def _batched(model: Classifier, fn, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Run `fn` (a method of `model`) over `images` in batches on the model's device; CPU result."""
    device = next(model.parameters()).device
    return torch.cat(
        [fn(images[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(images), batch_size)]
    )


def predict(model: Classifier, images: torch.Tensor) -> torch.Tensor:
    """Predicted class per image, (N,) int64."""
    return _batched(model, model.forward, images).argmax(dim=1)


def features(model: Classifier, images: torch.Tensor) -> torch.Tensor:
    """Penultimate features per image, (N, 128) float32."""
    return _batched(model, model.features, images)


def class_accuracy(model: Classifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (predict(model, images) == labels.cpu()).float().mean().item()


def fd_classifier(model: Classifier, images_a: torch.Tensor, images_b: torch.Tensor) -> float:
    return metrics.frechet_distance(features(model, images_a), features(model, images_b))


@dataclass(frozen=True)
class ImageMetrics:
    fd: float  # FD-classifier of the samples against the real test images
    fd_floor: float  # FD-classifier of real test vs real train images (the best achievable)
    accuracy: float | None  # class accuracy, when the samples were asked for classes
    histogram: list[float]  # share of samples the classifier puts in each class
    coverage: float  # share of classes with at least 2% of the samples


def evaluate_samples(dataset: str, samples: torch.Tensor, asked_labels: torch.Tensor | None = None) -> ImageMetrics:
    """Score generated images against the shipped test subset, the same way in every tab."""
    from core import images

    model = load_evaluator(dataset)
    test = images.load_subset(dataset, "test")
    sample_features = features(model, samples)  # one forward pass serves the FD and the classes
    with torch.no_grad():
        predicted = model.head(sample_features.to(next(model.parameters()).device)).argmax(dim=1).cpu()
    n_classes = len(test.info.class_names)
    return ImageMetrics(
        fd=metrics.frechet_distance(sample_features, test_features(dataset)),
        fd_floor=fd_floor(dataset),
        accuracy=None if asked_labels is None else (predicted == asked_labels.cpu()).float().mean().item(),
        histogram=metrics.class_histogram(predicted, n_classes).tolist(),
        coverage=metrics.class_coverage(predicted, n_classes),
    )


@functools.cache
def test_features(dataset: str) -> torch.Tensor:
    """Features of the shipped test subset: the reference every sample set is compared with (cached)."""
    from core import images

    return features(load_evaluator(dataset), images.load_subset(dataset, "test").images)


@functools.cache
def fd_floor(dataset: str) -> float:
    """FD-classifier between the real test and train subsets: what a perfect generator would score."""
    from core import images

    model = load_evaluator(dataset)
    return metrics.frechet_distance(
        test_features(dataset), features(model, images.load_subset(dataset, "train").images)
    )
