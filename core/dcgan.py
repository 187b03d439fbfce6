"""A small DCGAN on 28x28 images (MNIST, Fashion-MNIST): trained live in a session, or loaded as a
series of snapshots the training pipeline saved along the way.

Architecture after Radford et al. 2016 (https://arxiv.org/abs/1511.06434), scaled down so one
step of batch 64 runs in a few tens of milliseconds on a 2-core CPU:

- generator: noise z (64 numbers, Gaussian) -> linear -> (2w, 7, 7) -> transposed conv ->
  (w, 14, 14) -> transposed conv -> (1, 28, 28) in [-1, 1] (tanh); batch norm and ReLU between;
- discriminator: (1, 28, 28) -> strided conv -> (w, 14, 14) -> strided conv -> (2w, 7, 7) ->
  linear -> one logit; leaky ReLU between, no batch norm (real and fake go through it as one
  batch, and batch norm would let it compare them through the batch statistics).

The losses are core.gan2d's (the same code the 2-D GAN uses). Adam with beta1 = 0.5 and
learning rate 2e-4, the DCGAN paper's setting. Weights start from N(0, 0.02) drawn from a
generator seeded by the config, never from the global random state, so two sessions with the
same seed train identically. The pictures use the generator in eval mode (batch-norm running
statistics), so a sample does not depend on which other samples share its batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from core import images, seeding
from core.gan2d import LOSSES, discriminator_loss, generator_loss

IMAGE_LOSSES = ("non-saturating", "least-squares", "hinge")  # the ones that need no critic penalty
GRID_SIDE = 8  # the fixed-noise sample grid is 8 x 8
METRIC_SAMPLES = 500  # generated images per FD-classifier / class-histogram measurement
# the steps at which scripts/train_dcgan.py keeps the generator (the shipped run ends at 10,000)
SNAPSHOT_STEPS = (0, 100, 300, 1_000, 2_000, 4_000, 7_000, 10_000)


@dataclass
class DCGANConfig:
    dataset: str = "mnist"
    noise_dim: int = 64
    width: int = 32  # channels of the 14x14 layers (the 7x7 ones have twice as many)
    loss: str = "non-saturating"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    batch_size: int = 64
    seed: int = 0

    def check(self) -> DCGANConfig:
        """Raise ValueError with a message a user can act on for any out-of-range setting."""
        if self.dataset not in images.DATASETS:
            raise ValueError(f"Unknown data set {self.dataset!r}; choose {' or '.join(images.DATASETS)}.")
        if self.loss not in IMAGE_LOSSES:
            names = ", ".join(LOSSES[name] for name in IMAGE_LOSSES)
            raise ValueError(f"The image GAN trains with one of: {names}; not {self.loss!r}.")
        for name, value in (("generator learning rate", self.lr_g), ("discriminator learning rate", self.lr_d)):
            if not (isinstance(value, int | float) and math.isfinite(value) and 0 < value <= 0.01):
                raise ValueError(f"The {name} must be a number in (0, 0.01].")
        for name, value, low, high in (
            ("noise dimension", self.noise_dim, 1, 256),
            ("width", self.width, 4, 128),
            ("batch size", self.batch_size, 8, 512),
        ):
            whole = isinstance(value, int | float) and math.isfinite(value) and float(value).is_integer()
            if not (whole and low <= value <= high):
                raise ValueError(f"The {name} must be a whole number from {low} to {high}.")
        seeding.check_seed(self.seed)
        return self


class Generator(nn.Module):
    def __init__(self, noise_dim: int = 64, width: int = 32):
        super().__init__()
        self.project = nn.Sequential(nn.Linear(noise_dim, 2 * width * 49), nn.BatchNorm1d(2 * width * 49), nn.ReLU())
        self.body = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1), nn.Tanh(),  # 28x28
        )  # fmt: skip
        self.width = width

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(z).view(len(z), 2 * self.width, 7, 7))


class Discriminator(nn.Module):
    def __init__(self, width: int = 32):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 14x14
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 7x7
            nn.Flatten(), nn.Linear(2 * width * 49, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(1)


def dcgan_init(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """The DCGAN paper's initialisation (weights N(0, 0.02), batch-norm scales N(1, 0.02)), seeded."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                layer.weight.normal_(0.0, 0.02, generator=generator)
                layer.bias.zero_()
            elif isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d):
                layer.weight.normal_(1.0, 0.02, generator=generator)
                layer.bias.zero_()
    return module


@dataclass
class DCGAN:
    """One DCGAN with its optimisers, its data, its fixed noise and its history."""

    config: DCGANConfig = field(default_factory=DCGANConfig)
    train_images: torch.Tensor | None = None  # default: the shipped 5,000-image training subset
    step: int = field(init=False, default=0)
    history: list[dict[str, float]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        c = self.config.check()
        if self.train_images is None:
            self.train_images = images.load_subset(c.dataset, "train").images
        init = torch.Generator().manual_seed(c.seed)
        self.generator = dcgan_init(Generator(c.noise_dim, c.width), init)
        self.discriminator = dcgan_init(Discriminator(c.width), init)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=(0.5, 0.999))
        self.rng = torch.Generator().manual_seed(c.seed + 1)  # batches and training noise
        shown = torch.Generator().manual_seed(c.seed + 2)
        self.fixed_noise = torch.randn(GRID_SIDE**2, c.noise_dim, generator=shown)  # the grid follows these
        self.metric_noise = torch.randn(METRIC_SAMPLES, c.noise_dim, generator=shown)

    def train_step(self) -> dict[str, float]:
        """One discriminator update on a real and a generated batch, then one generator update."""
        c = self.config
        real = self.train_images[torch.randint(len(self.train_images), (c.batch_size,), generator=self.rng)]
        fake = self.generator(torch.randn(c.batch_size, c.noise_dim, generator=self.rng))

        scores = self.discriminator(torch.cat([real, fake.detach()]))
        d_loss = discriminator_loss(c.loss, scores[: c.batch_size], scores[c.batch_size :])
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()

        # the generator's update reuses this batch's fakes: D (just updated) judges them again
        g_loss = generator_loss(c.loss, self.discriminator(fake))
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.discriminator.zero_grad(set_to_none=True)  # G's backward also filled D's gradients

        self.step += 1
        out = {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
        self.history.append({"step": self.step, **out})
        return out

    @torch.no_grad()
    def sample(self, noise: torch.Tensor) -> torch.Tensor:
        return generate(self.generator, noise)

    def grid(self) -> torch.Tensor:
        """The 64 images of the fixed noise, (64, 1, 28, 28) in [-1, 1]."""
        return self.sample(self.fixed_noise)

    def measure(self) -> dict:
        """FD-classifier and class histogram of 500 samples (the fixed metric noise), added to the history."""
        from core.evaluator import evaluate_samples

        quality = evaluate_samples(self.config.dataset, self.sample(self.metric_noise))
        values = {"fd": quality.fd, "histogram": quality.histogram, "coverage": quality.coverage}
        if self.history and self.history[-1]["step"] == self.step:
            self.history[-1].update(values)
        else:
            self.history.append({"step": self.step, **values})
        return values


@torch.no_grad()
def generate(generator: Generator, noise: torch.Tensor) -> torch.Tensor:
    """Images from noise with the generator in eval mode (running batch-norm statistics)."""
    was_training = generator.training
    generator.eval()
    try:
        return generator(noise)
    finally:
        generator.train(was_training)


def noise_for(seed: int, n: int, noise_dim: int = 64) -> torch.Tensor:
    """The Gaussian noise a seed names (the same on every machine)."""
    return torch.randn(n, noise_dim, generator=torch.Generator().manual_seed(seed))


# --- the shipped snapshot series (scripts/train_dcgan.py) ---


@dataclass(frozen=True)
class SnapshotSeries:
    """One training run's generator at several steps, and what its card measured at each."""

    dataset: str
    config: DCGANConfig
    generators: dict[int, Generator]  # step -> generator (eval mode, shared read-only)
    scores: dict[int, dict]  # step -> fd_classifier, class_coverage, histogram (card)
    card: dict

    @property
    def steps(self) -> list[int]:
        return sorted(self.generators)

    def images(self, step: int, noise: torch.Tensor) -> torch.Tensor:
        if step not in self.generators:
            raise ValueError(f"No snapshot at step {step}; the shipped ones are at {', '.join(map(str, self.steps))}.")
        return generate(self.generators[step], noise)


def read_shipped_series(key: str) -> SnapshotSeries:  # registry loader of "dcgan-mnist" / "dcgan-fashion"
    import json

    from safetensors.torch import load_file

    from core import assets

    asset = assets.get(key)
    weights = asset.files[0].path()
    card = json.loads(weights.with_suffix(".json").read_text())
    config = DCGANConfig(**card["model"])
    state = load_file(str(weights))
    generators = {}
    for entry in card["snapshots"]:
        prefix = f"step{entry['step']}."
        generator = Generator(config.noise_dim, config.width)
        generator.load_state_dict({k[len(prefix) :]: v.float() for k, v in state.items() if k.startswith(prefix)})
        generators[entry["step"]] = generator.eval()
    scores = {entry["step"]: entry for entry in card["snapshots"]}
    return SnapshotSeries(config.dataset, config, generators, scores, card)


def shipped_series(dataset: str) -> SnapshotSeries:
    """The shipped snapshot series for 'mnist' or 'fashion' (loaded once, shared)."""
    from core import assets

    images.info(dataset)  # ValueError for an unknown data set
    return assets.load_embedded(f"dcgan-{dataset}")
