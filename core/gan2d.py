"""A GAN on 2-D points, trained step by step in one user's session, with everything GAN Lab draws.

Generator G: noise z (noise_dim numbers, Gaussian or uniform) -> a point in the plane, an MLP.
Discriminator D: a point -> one score (a logit; for WGAN-GP a critic value), an MLP.
Training alternates `d_steps` discriminator updates with one generator update (Goodfellow et al.
2014, Algorithm 1, https://arxiv.org/abs/1406.2661), with one of these losses:

- "minimax": D maximises log D(x) + log(1 - D(G(z))), G minimises log(1 - D(G(z))), the original
  game; its generator gradient vanishes where D confidently rejects the fakes;
- "non-saturating": the same D, but G maximises log D(G(z)) (the paper's practical fix);
- "least-squares": LSGAN (Mao et al. 2017, https://arxiv.org/abs/1611.04076), targets 1 and 0;
- "wgan-gp": a critic with a gradient penalty on points between real and fake (Gulrajani et al.
  2017, https://arxiv.org/abs/1704.00028);
- "hinge": the hinge loss of Miyato et al. 2018 (https://arxiv.org/abs/1802.05957).

`GAN2D.frame()` returns what a picture needs: real and generated points, D's decision surface on
a grid, the generator's image of a grid of noise (its manifold), and for every generated point
the direction the generator's update moves it (minus the gradient of G's loss with respect to
the point), plus loss and metric histories. Everything is seeded from the config's seed through
private generators: two sessions with the same config produce the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from core import metrics, toy2d

Loss = Literal["minimax", "non-saturating", "least-squares", "wgan-gp", "hinge"]
LOSSES: dict[str, str] = {
    "minimax": "Minimax (saturating): the original log(1 − D(G(z)))",
    "non-saturating": "Non-saturating: G maximises log D(G(z))",
    "least-squares": "Least squares (LSGAN)",
    "wgan-gp": "Wasserstein with gradient penalty (WGAN-GP)",
    "hinge": "Hinge",
}
OPTIMIZERS = ("adam", "sgd", "rmsprop")
NOISES = ("gaussian", "uniform")
DATA_POINTS = 4_000  # the real sample training draws batches from (and metrics compare against)
SHOWN_POINTS = 300  # real and fake points drawn per frame (the browser redraws them 10 times a second)
SURFACE_STEPS = 40  # decision-surface grid resolution
MANIFOLD_LINES = 9  # noise-grid lines per direction for the manifold picture
METRIC_POINTS = 1_000


# Settings that reliably show one phenomenon each with their seed (tests/unit/test_gan_presets.py
# checks each), and what to watch: (settings, caption). Settings not named keep their defaults.
PRESETS: dict[str, tuple[dict, str]] = {
    "Healthy convergence": (
        {"dataset": "8gaussians", "loss": "non-saturating", "lr_g": 1e-3, "lr_d": 1e-3, "d_steps": 1},
        "Watch the red points spread over all eight blobs while the background turns evenly pale: D can no longer tell.",
    ),
    "Mode collapse": (
        {"dataset": "8gaussians", "loss": "non-saturating", "lr_g": 5e-3, "lr_d": 1e-3, "noise_dim": 1},
        "Watch the red points crowd onto one or two blobs and hop between them: 'modes covered' stays low.",
    ),
    "Oscillation": (
        {"dataset": "clusters", "loss": "wgan-gp", "gp_weight": 0.0, "lr_g": 1e-2, "lr_d": 1e-2},
        "A Wasserstein critic without its gradient penalty: its scores blow up and the red cloud swings from side "
        "to side instead of settling (set the penalty weight back to 0.1 to calm it).",
    ),
    "Vanishing gradient": (
        {"dataset": "ring", "loss": "minimax", "lr_g": 1e-4, "lr_d": 1e-2, "d_steps": 10, "hidden": 128, "depth": 3},
        "The original minimax loss against a strong D: D rejects the fakes so confidently that G's arrows shrink to "
        "nothing and it stalls. Switch the loss to non-saturating with everything else equal and it learns.",
    ),
}


@dataclass
class GANConfig:
    dataset: str = "8gaussians"
    loss: str = "non-saturating"
    optimizer: str = "adam"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    d_steps: int = 1  # discriminator updates per generator update
    noise_dim: int = 2
    noise: str = "gaussian"
    hidden: int = 64
    depth: int = 2  # hidden layers in each network
    batch_size: int = 128
    seed: int = 0
    gp_weight: float = 0.1  # WGAN-GP's lambda (0.1 suits 2-D data at this scale)

    def check(self) -> GANConfig:
        """Raise ValueError with a message a user can act on for any out-of-range setting."""
        if self.dataset not in toy2d.DISTRIBUTIONS:
            raise ValueError(f"Unknown data set {self.dataset!r}; choose from {', '.join(toy2d.DISTRIBUTIONS)}.")
        if self.loss not in LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}; choose from {', '.join(LOSSES)}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}.")
        if self.noise not in NOISES:
            raise ValueError(f"Unknown noise {self.noise!r}; choose gaussian or uniform.")
        for name, value in (("generator learning rate", self.lr_g), ("discriminator learning rate", self.lr_d)):
            if not (math.isfinite(value) and 0 < value <= 1):
                raise ValueError(f"The {name} must be a number in (0, 1].")
        checks = (
            ("D steps per G step", self.d_steps, 1, 20),
            ("noise dimension", self.noise_dim, 1, 64),
            ("hidden width", self.hidden, 4, 512),
            ("depth", self.depth, 1, 6),
            ("batch size", self.batch_size, 8, 2048),
        )
        for name, value, low, high in checks:
            if int(value) != value or not low <= value <= high:
                raise ValueError(f"The {name} must be a whole number from {low} to {high}.")
        if not (math.isfinite(self.gp_weight) and 0 <= self.gp_weight <= 100):
            raise ValueError("The gradient-penalty weight must be between 0 and 100.")
        return self


def mlp(in_dim: int, out_dim: int, hidden: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def discriminator_loss(loss: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """D's loss from its raw outputs on real and fake points (the gradient penalty is added apart)."""
    if loss in ("minimax", "non-saturating"):  # -log sigmoid(real) - log(1 - sigmoid(fake))
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if loss == "least-squares":
        return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()
    if loss == "wgan-gp":
        return fake.mean() - real.mean()
    if loss == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    raise ValueError(f"Unknown loss {loss!r}")


def generator_loss(loss: str, fake: torch.Tensor) -> torch.Tensor:
    """G's loss from D's raw outputs on generated points."""
    if loss == "minimax":  # log(1 - sigmoid(fake)) = -softplus(fake)
        return -F.softplus(fake).mean()
    if loss == "non-saturating":  # -log sigmoid(fake)
        return F.softplus(-fake).mean()
    if loss == "least-squares":
        return 0.5 * ((fake - 1) ** 2).mean()
    if loss in ("wgan-gp", "hinge"):
        return -fake.mean()
    raise ValueError(f"Unknown loss {loss!r}")


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: mean (|grad critic(x_hat)| - 1)^2 at x_hat = mix * real + (1 - mix) * fake."""
    x_hat = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def surface_probability(loss: str, scores: torch.Tensor) -> torch.Tensor:
    """What the decision surface shows: D's belief that a point is real, in [0, 1].

    A sigmoid for the logistic losses; LSGAN's output is already a 0..1 target; a critic (WGAN-GP,
    hinge) has no probability, so its scores are min-max scaled over the grid.
    """
    if loss in ("minimax", "non-saturating"):
        return torch.sigmoid(scores)
    if loss == "least-squares":
        return scores.clamp(0, 1)
    span = scores.max() - scores.min()
    return (scores - scores.min()) / span if span > 0 else torch.full_like(scores, 0.5)


@dataclass
class Frame2D:
    step: int  # generator updates so far
    real: torch.Tensor  # (SHOWN_POINTS, 2)
    fake: torch.Tensor  # (SHOWN_POINTS, 2) from a fixed noise batch
    arrows: torch.Tensor  # (SHOWN_POINTS, 2): -d(G loss)/d(point), where G's update pushes each fake
    surface: torch.Tensor  # (SURFACE_STEPS, SURFACE_STEPS), D's belief "real", rows = y upwards
    surface_axis: torch.Tensor  # (SURFACE_STEPS,) coordinates of the grid along x and y
    manifold: list[torch.Tensor]  # polylines: G's image of the noise grid's lines
    history: list[dict[str, float]]  # per recorded step: step, d_loss, g_loss (+ mmd, coverage)


@dataclass
class GAN2D:
    config: GANConfig
    drawing: object = None  # the sketch, for dataset "drawn"
    generator: nn.Sequential = field(init=False)
    discriminator: nn.Sequential = field(init=False)
    step: int = field(init=False, default=0)
    history: list[dict[str, float]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.config.check()
        c = self.config
        self.data = toy2d.sample(c.dataset, DATA_POINTS, torch.Generator().manual_seed(c.seed), drawing=self.drawing)
        init = torch.Generator().manual_seed(c.seed + 1)
        self.generator = _seeded(mlp(c.noise_dim, 2, c.hidden, c.depth), init)
        self.discriminator = _seeded(mlp(2, 1, c.hidden, c.depth), init)
        self.opt_g = _optimizer(c.optimizer, self.generator.parameters(), c.lr_g)
        self.opt_d = _optimizer(c.optimizer, self.discriminator.parameters(), c.lr_d)
        self.rng = torch.Generator().manual_seed(c.seed + 2)  # batches and noise during training
        shown = torch.Generator().manual_seed(c.seed + 3)
        self.fixed_noise = self.noise(SHOWN_POINTS, shown)  # the same fakes are followed frame to frame
        self.metric_noise = self.noise(METRIC_POINTS, shown)
        self.real_shown = self.data.points[:SHOWN_POINTS]

    # --- sampling ---

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        g = generator or self.rng
        if self.config.noise == "uniform":
            return torch.rand((n, self.config.noise_dim), generator=g) * 2 - 1
        return torch.randn((n, self.config.noise_dim), generator=g)

    def real_batch(self) -> torch.Tensor:
        pick = torch.randint(len(self.data.points), (self.config.batch_size,), generator=self.rng)
        return self.data.points[pick]

    @torch.no_grad()
    def sample(self, n: int = METRIC_POINTS) -> torch.Tensor:
        return self.generator(self.metric_noise[:n] if n <= METRIC_POINTS else self.noise(n))

    # --- training ---

    def d_step(self) -> float:
        c = self.config
        real = self.real_batch()
        with torch.no_grad():
            fake = self.generator(self.noise(c.batch_size))
        scores = self.discriminator(torch.cat([real, fake]))  # one pass over both halves (fewer small ops)
        loss = discriminator_loss(c.loss, scores[: len(real)], scores[len(real) :])
        if c.loss == "wgan-gp":
            mix = torch.rand((c.batch_size, 1), generator=self.rng)
            loss = loss + c.gp_weight * gradient_penalty(self.discriminator, real, fake, mix)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return loss.item()

    def g_step(self) -> float:
        c = self.config
        loss = generator_loss(c.loss, self.discriminator(self.generator(self.noise(c.batch_size))))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.opt_d.zero_grad(set_to_none=True)  # G's backward also filled D's gradients: drop them
        return loss.item()

    def train_step(self, which: Literal["both", "g", "d"] = "both", record_every: int = 10) -> dict[str, float]:
        """`d_steps` D updates then one G update ("both"), or a single update of one network."""
        out: dict[str, float] = {}
        if which in ("both", "d"):
            for _ in range(self.config.d_steps if which == "both" else 1):
                out["d_loss"] = self.d_step()
        if which in ("both", "g"):
            out["g_loss"] = self.g_step()
            self.step += 1
        if which != "both" or self.step % record_every == 0:
            self.history.append({"step": self.step, **out})
        return out

    def measure(self, n_samples: int = 500, n_data: int = 1_000) -> dict[str, float | None]:
        """MMD and mode coverage of generated points vs data points, added to the latest history entry.

        The defaults keep it at ~20 ms, cheap enough to run once a second during live training.
        """
        data = toy2d.Toy2D(self.data.points[:n_data], self.data.modes, self.data.mode_std, self.data.name)
        m = metrics.metrics_2d(self.sample(n_samples), data)
        values = {"mmd": m.mmd, "coverage": m.coverage}
        if self.history and self.history[-1]["step"] == self.step:
            self.history[-1].update(values)
        else:
            self.history.append({"step": self.step, **values})
        return values

    # --- what a frame shows ---

    def frame(self) -> Frame2D:
        c = self.config
        fake = self.generator(self.fixed_noise).detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(generator_loss(c.loss, self.discriminator(fake)) * len(fake), fake)
        self.discriminator.zero_grad(set_to_none=True)
        with torch.no_grad():
            points = toy2d.grid(steps=SURFACE_STEPS)
            scores = self.discriminator(points).reshape(SURFACE_STEPS, SURFACE_STEPS)
            surface = surface_probability(c.loss, scores)
            manifold = self._manifold_lines()
        return Frame2D(
            step=self.step,
            real=self.real_shown,
            fake=fake.detach(),
            arrows=-grad,
            surface=surface,
            surface_axis=torch.linspace(*toy2d.PLOT_RANGE, SURFACE_STEPS),
            manifold=manifold,
            history=[dict(h) for h in self.history],
        )

    def _manifold_lines(self) -> list[torch.Tensor]:
        """G applied to the lines of a grid over the first two noise dimensions (others 0).

        For Gaussian noise the grid spans +-2 standard deviations; for uniform noise [-1, 1].
        With one noise dimension it is a single line.
        """
        extent = 1.0 if self.config.noise == "uniform" else 2.0
        ticks = torch.linspace(-extent, extent, MANIFOLD_LINES)
        fine = torch.linspace(-extent, extent, 40)
        d = self.config.noise_dim
        lines = []
        if d == 1:
            return [self.generator(fine[:, None])]
        for t in ticks:
            for along, across in ((0, 1), (1, 0)):
                z = torch.zeros(len(fine), d)
                z[:, along], z[:, across] = fine, t
                lines.append(self.generator(z))
        return lines

    def describe(self) -> dict:
        return asdict(self.config)


def _seeded(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """PyTorch's default initialisation, drawn from `generator` (never the global random state)."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                bound = 1 / math.sqrt(layer.in_features)
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return module


def _optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    if name == "adam":  # beta1 = 0.5: the DCGAN setting; fused: one kernel per step for all parameters
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), fused=True)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.SGD(params, lr=lr)
