"""Trainer of the shipped VAEs (core.vae.ConvVAE): 2-D and 16-D latents, and beta variants on MNIST.

    python -m scripts.train vae-2d --dataset mnist             # the shipped recipe (needs `make data`)
    python -m scripts.train vae-16d --dataset fashion --steps 20 --source subset --out-dir some/folder

Adam with a cosine decay to a tenth of the peak rate, random mini-batches from a seeded
generator. The card reports on the whole test set (one seeded z sample per image): the ELBO, the
reconstruction term and the KL term in nats per image, and the FD-classifier of 1,000 images
decoded from prior samples z ~ N(0, I) against the test subset (core.evaluator). Stored with the
weights: the test-set latent means and labels (the tab's latent map, no encoding at run time);
for 16-D models also a UMAP projection of those means and the fitted reducer (a pickle beside the
weights), so the tab can place new points without fitting UMAP (~25 s) while a user waits.
"""

from __future__ import annotations

import copy
import math
import pickle
import time
from dataclasses import asdict

import torch

from core import images
from core.device import get_device
from core.evaluator import evaluate_samples
from core.vae import ConvVAE, VAEConfig, encode_batched, evaluate, train_step
from scripts.pipeline import Report, TrainConfig, TrainerSpec, TrainResult

UMAP_POINTS = 5_000  # test latents the reducer is fitted on (keeps the pickle and the fit small)
UMAP_PARAMS = {"n_neighbors": 15, "min_dist": 0.1}
PRIOR_SAMPLES = 1_000


def fit_umap(latents: torch.Tensor, seed: int) -> tuple[bytes, torch.Tensor, dict]:
    """The pickled reducer, the 2-D embedding of `latents`, and what the card says about the fit."""
    import umap

    started = time.perf_counter()
    reducer = umap.UMAP(n_components=2, random_state=seed, **UMAP_PARAMS)
    embedding = reducer.fit_transform(latents.numpy())
    info = {**UMAP_PARAMS, "points": len(latents), "seconds": round(time.perf_counter() - started, 1)}
    return pickle.dumps(reducer), torch.from_numpy(embedding).float(), info


def make_trainer(latent_dim: int, beta: float):
    def train(config: TrainConfig, report: Report) -> TrainResult:
        device = get_device()
        train_set = images.load(config.dataset, "train", config.source)
        test_set = images.load(config.dataset, "test", config.source)
        model = ConvVAE(VAEConfig(latent_dim=latent_dim, beta=beta)).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: 0.1 + 0.45 * (1 + math.cos(math.pi * min(s / config.steps, 1.0)))
        )
        order = torch.Generator().manual_seed(config.seed)  # which images each step sees
        noise = torch.Generator(device=device).manual_seed(config.seed)  # the z samples
        held_out = test_set.images[:2_000]

        for step in range(1, config.steps + 1):
            pick = torch.randint(len(train_set), (config.batch_size,), generator=order)
            terms = train_step(model, optimizer, train_set.images[pick].to(device), generator=noise)
            schedule.step()
            if step % config.eval_every == 0 or step == config.steps:
                test = evaluate(model, held_out)
                report(
                    step,
                    loss=terms.loss.item(),
                    reconstruction=terms.reconstruction.item(),
                    kl=terms.kl.item(),
                    test_elbo=test["elbo"],
                )
            else:
                report(step)

        model.eval()
        final = {f"test_{name}": value for name, value in evaluate(model, test_set.images).items()}
        half = copy.deepcopy(model)
        for p in half.parameters():
            p.data = p.data.half().float()
        final["test_elbo_fp16_weights"] = evaluate(half, test_set.images)["elbo"]
        fp16 = abs(final["test_elbo_fp16_weights"] - final["test_elbo"]) < 0.1

        prior = torch.randn(PRIOR_SAMPLES, latent_dim, generator=torch.Generator().manual_seed(config.seed))
        with torch.no_grad():
            samples = model.decode(prior.to(device)).cpu()
        quality = evaluate_samples(config.dataset, samples)
        final["sample_fd_classifier"] = quality.fd
        final["fd_floor"] = quality.fd_floor
        final["sample_class_coverage"] = quality.coverage

        latents, _ = encode_batched(model, test_set.images)
        state = dict(model.state_dict())
        state["test_latents"] = latents  # latent means of every test image
        state["test_labels"] = test_set.labels.clone()
        card: dict = {"model": asdict(model.config), "parameters": sum(p.numel() for p in model.parameters())}
        files = {}
        if latent_dim > 2:
            pick = torch.randperm(len(latents), generator=torch.Generator().manual_seed(config.seed))[:UMAP_POINTS]
            pick = pick.sort().values
            files[".umap.pkl"], state["umap_embedding"], card["umap"] = fit_umap(latents[pick], config.seed)
            state["umap_index"] = pick  # which test rows the embedding shows
        data = (
            f"{train_set.info.title}: {len(train_set):,} training images ({config.source} set), "
            f"{len(test_set):,} test images"
        )
        return TrainResult(state, final, data, fp16=fp16, card=card, files=files)

    return train


def _spec(latent_dim: int, beta: float, datasets: tuple[str, ...]) -> TrainerSpec:
    recipe = {"steps": 4_000, "batch_size": 128, "lr": 1e-3}
    return TrainerSpec(
        train=make_trainer(latent_dim, beta), datasets=datasets, defaults={name: recipe for name in datasets}
    )


SPECS = {
    "vae-2d": _spec(2, 1.0, ("mnist", "fashion")),
    "vae-16d": _spec(16, 1.0, ("mnist", "fashion")),
    "vae-2d-beta0.5": _spec(2, 0.5, ("mnist",)),
    "vae-2d-beta4": _spec(2, 4.0, ("mnist",)),
}
