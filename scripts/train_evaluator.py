"""Trainer of the evaluator classifiers (core.evaluator.Classifier), one per image data set.

Plain supervised training with AdamW and a cosine learning-rate decay on the full training set;
the card reports the accuracy on the whole test set and the FD-classifier floor (test vs train
subsets), the number every image tab compares its samples against.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from core import images, metrics
from core.device import get_device
from core.evaluator import Classifier, class_accuracy, features
from scripts.pipeline import Report, TrainConfig, TrainerSpec, TrainResult


def train(config: TrainConfig, report: Report) -> TrainResult:
    device = get_device()
    train_set = images.load(config.dataset, "train", config.source)
    test_set = images.load(config.dataset, "test", config.source)
    model = Classifier(len(train_set.info.class_names)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / config.steps)))
    order = torch.Generator().manual_seed(config.seed)  # which images each step sees

    for step in range(1, config.steps + 1):
        pick = torch.randint(len(train_set), (config.batch_size,), generator=order)
        x, y = train_set.images[pick].to(device), train_set.labels[pick].to(device)
        # small random shifts (up to 2 pixels) make the judge robust to slightly off-centre samples
        shift = torch.randint(-2, 3, (2,), generator=order).tolist()
        x = torch.roll(x, shifts=shift, dims=(2, 3))
        model.train()
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % config.eval_every == 0 or step == config.steps:
            model.eval()
            report(
                step,
                loss=loss.item(),
                test_accuracy=class_accuracy(model, test_set.images[:2000], test_set.labels[:2000]),
            )
        else:
            report(step)

    model.eval()
    final = {"test_accuracy": class_accuracy(model, test_set.images, test_set.labels)}
    # FD floor on the shipped subsets, exactly as the app computes it
    sub_test, sub_train = images.load_subset(config.dataset, "test"), images.load_subset(config.dataset, "train")
    final["fd_floor_test_vs_train"] = metrics.frechet_distance(
        features(model, sub_test.images), features(model, sub_train.images)
    )
    noise = torch.rand(sub_test.images.shape, generator=order) * 2 - 1
    final["fd_uniform_noise_vs_test"] = metrics.frechet_distance(
        features(model, noise), features(model, sub_test.images)
    )
    data = f"{train_set.info.title}: {len(train_set):,} training images ({config.source} set), {len(test_set):,} test images"
    return TrainResult(model.state_dict(), final, data, fp16=True)


SPEC = TrainerSpec(
    train=train,
    datasets=("mnist", "fashion"),
    defaults={
        "mnist": {"steps": 2_000, "batch_size": 128, "lr": 2e-3},
        "fashion": {"steps": 5_000, "batch_size": 128, "lr": 2e-3},
    },
)
