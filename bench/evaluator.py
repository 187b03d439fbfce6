"""Evaluator figures: accuracies, the FD-classifier floor, and what scoring samples costs."""

from __future__ import annotations

import json

import torch

from bench.common import time_ms
from core import assets, evaluator, images, metrics, toy2d


def _card(dataset: str) -> dict:
    weights = assets.get(f"evaluator-{dataset}").files[0].path()
    return json.loads(weights.with_suffix(".json").read_text())


def run() -> dict:
    report: dict = {}
    for dataset in images.DATASETS:
        model = evaluator.load_evaluator(dataset)
        test, train = images.load_subset(dataset, "test"), images.load_subset(dataset, "train")
        noise = torch.rand(test.images.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
        card = _card(dataset)
        report[dataset] = {
            "test_accuracy_full_test_set": card["metrics"]["test_accuracy"],
            "test_accuracy_shipped_subset": round(evaluator.class_accuracy(model, test.images, test.labels), 4),
            "fd_floor_test_vs_train": round(evaluator.fd_floor(dataset), 4),
            "fd_uniform_noise_vs_test": round(evaluator.fd_classifier(model, noise, test.images), 2),
            "score_1000_samples": time_ms(
                lambda d=dataset, x=train.images[:1000]: evaluator.evaluate_samples(d, x), repeats=5
            ),
            "trained": {"steps": card["steps"], "wall_time_s": card["wall_time_s"], "device": card["device"]},
        }
    data = toy2d.sample("8gaussians", 2_000, torch.Generator().manual_seed(0))
    other = toy2d.sample("8gaussians", 2_000, torch.Generator().manual_seed(1))
    report["metrics_2d_8gaussians_2000_vs_2000"] = {
        "mmd_same_distribution": round(metrics.mmd_rbf(other.points, data.points), 5),
        "time": time_ms(lambda: metrics.metrics_2d(other.points, data), repeats=10),
    }
    return report
