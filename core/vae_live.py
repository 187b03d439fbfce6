"""Train a small 2-D VAE live, in one user's session, and watch its latent map form.

`LiveVAE` holds one user's model, optimiser and loss history; `run` trains it for some epochs
on the shipped training subset (5,000 images) and yields a `LiveFrame` every `frame_steps` steps
and at the end: the loss curves so far and the latent means of the 1,000 test-subset images.
`run` checks a stop event before every step, so Stop takes effect within one step (~0.1 s on a
2-core CPU). Training again continues the same model (with the current beta); `reset` starts over.

The model and recipe are core.vae's (the shipped VAEs' architecture), seeded: two sessions with
the same seed, data set and beta produce identical frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from core import images
from core.vae import ConvVAE, VAEConfig, encode_batched, train_step

MAX_EPOCHS = 50
MAX_SECONDS = 600.0  # a live run stops by itself after ten minutes


@dataclass
class LiveFrame:
    step: int
    epoch: float  # epochs done, fractional
    history: list[dict[str, float]]  # per frame: step, reconstruction, kl, loss (batch means, nats)
    latents: torch.Tensor  # (N, 2) test-subset latent means
    labels: torch.Tensor  # (N,)
    seconds: float  # training time of this run so far
    done: bool = False
    stopped: str | None = None  # why the run ended early, if it did


@dataclass
class LiveVAE:
    dataset: str = "mnist"
    seed: int = 0
    beta: float = 1.0
    batch_size: int = 128
    lr: float = 2e-3
    model: ConvVAE = field(init=False)
    optimizer: torch.optim.Optimizer = field(init=False)
    step: int = field(init=False, default=0)
    history: list[dict[str, float]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        images.info(self.dataset)  # raises ValueError for an unknown data set
        self.reset()

    def reset(self) -> None:
        # initial weights: a function of the seed only (never the global random state: other sessions use it)
        self.model = ConvVAE(VAEConfig(latent_dim=2, beta=self.beta)).reset_parameters(
            torch.Generator().manual_seed(self.seed)
        )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self.order = torch.Generator().manual_seed(self.seed)  # mini-batch order
        self.noise = torch.Generator().manual_seed(self.seed + 1)  # z samples
        self.step = 0
        self.history = []

    @property
    def train_images(self) -> torch.Tensor:
        return images.load_subset(self.dataset, "train").images

    def frame(self, seconds: float, done: bool = False, stopped: str | None = None) -> LiveFrame:
        test = images.load_subset(self.dataset, "test")
        latents, _ = encode_batched(self.model, test.images)
        per_epoch = len(self.train_images) / self.batch_size
        return LiveFrame(
            step=self.step,
            epoch=self.step / per_epoch,
            history=list(self.history),
            latents=latents,
            labels=test.labels,
            seconds=seconds,
            done=done,
            stopped=stopped,
        )

    def run(
        self,
        epochs: float,
        frame_steps: int = 20,
        stop: threading.Event | None = None,
        max_seconds: float = MAX_SECONDS,
    ) -> Iterator[LiveFrame]:
        """Train `epochs` more epochs (on the CPU: sessions must not fight over a GPU), yielding frames."""
        if not 0 < epochs <= MAX_EPOCHS:
            raise ValueError(f"Choose between a fraction of an epoch and {MAX_EPOCHS} epochs.")
        data = self.train_images
        steps = max(1, round(epochs * len(data) / self.batch_size))
        started = time.perf_counter()
        for _ in range(steps):
            if stop is not None and stop.is_set():
                yield self.frame(time.perf_counter() - started, done=True, stopped="stopped")
                return
            if time.perf_counter() - started > max_seconds:
                yield self.frame(time.perf_counter() - started, done=True, stopped="time limit")
                return
            pick = torch.randint(len(data), (self.batch_size,), generator=self.order)
            terms = train_step(self.model, self.optimizer, data[pick], beta=self.beta, generator=self.noise)
            self.step += 1
            if self.step % frame_steps == 0:
                self.history.append(
                    {
                        "step": self.step,
                        "reconstruction": terms.reconstruction.item(),
                        "kl": terms.kl.item(),
                        "loss": terms.loss.item(),
                    }
                )
                yield self.frame(time.perf_counter() - started)
        yield self.frame(time.perf_counter() - started, done=True)
