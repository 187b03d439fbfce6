"""The shipped evaluators: accuracy the issue asks for, and FD-classifier known answers."""

from __future__ import annotations

import pytest
import torch

from core import evaluator, images

REQUIRED_ACCURACY = {"mnist": 0.98, "fashion": 0.90}


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_accuracy_on_the_shipped_test_subset(dataset):
    model = evaluator.load_evaluator(dataset)
    test = images.load_subset(dataset, "test")
    assert evaluator.class_accuracy(model, test.images, test.labels) >= REQUIRED_ACCURACY[dataset]


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_fd_of_real_data_is_small_and_of_noise_large(dataset):
    model = evaluator.load_evaluator(dataset)
    test, train = images.load_subset(dataset, "test"), images.load_subset(dataset, "train")
    floor = evaluator.fd_classifier(model, test.images, train.images)
    noise = torch.rand(test.images.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert floor == pytest.approx(evaluator.fd_floor(dataset))
    assert evaluator.fd_classifier(model, noise, test.images) > 50 * max(floor, 1e-3)


def test_evaluate_samples_on_real_and_on_collapsed_samples():
    train = images.load_subset("mnist", "train")
    real = evaluator.evaluate_samples("mnist", train.images[:1000], train.labels[:1000])
    assert real.accuracy >= 0.98 and real.coverage == 1.0
    assert sum(real.histogram) == pytest.approx(1.0)
    # a "generator" that only ever draws ones: mode collapse shows in coverage and FD
    ones = train.images[train.labels == 1][:300]
    collapsed = evaluator.evaluate_samples("mnist", ones)
    assert collapsed.accuracy is None
    assert collapsed.coverage == pytest.approx(0.1)
    assert collapsed.fd > 10 * real.fd
