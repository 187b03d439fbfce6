"""Flow matching on 2-D points, trained live: a velocity field, particles flowing from noise to data, couplings.

The network is core.diffusion2d's TimeMLP with t in [0, 1]; points are the shared toy world's
(core.toy2d) divided by the same DATA_SCALE as the 2-D diffusion model, so for the same seed the
two start from identical noise (the tab's side-by-side). Conventions of core.flow: x_0 = noise,
x_1 = data, integrate from t = 0 to t = 1.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import torch

from core import flow, metrics, toy2d
from core.diffusion2d import DATA_SCALE, TimeMLP, seeded_init, train_iterations

FIELD_STEPS = 21
REFLOW_PAIRS = 4_096  # (noise, teacher's output) pairs generated once for a reflow (RK4, 20 steps)
# OT-CFM pairs exactly within groups of this many points: the assignment's cost grows about as n^3
# (on 2 cores, a batch of 256 as one group: 12-19 ms; as four groups of 64: under 1 ms), and
# training must stay live-speed (2,000 iterations in 10 s).
OT_GROUP = 64
_PAIRING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ot-pairing")  # shared by every live OT flow


def _ot_paired(x0: torch.Tensor, x1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x1 reordered so that, within each group of OT_GROUP, the pairs' total squared distance is smallest."""
    groups = zip(x0.split(OT_GROUP), x1.split(OT_GROUP), strict=True)
    return x0, torch.cat([b[flow.ot_pairing(a, b)] for a, b in groups])


@dataclass
class Flow2DConfig:
    dataset: str = "8gaussians"
    coupling: str = "independent"  # core.flow.COUPLINGS
    hidden: int = 128
    depth: int = 3
    batch_size: int = 256
    lr: float = 3e-3
    seed: int = 0

    def check(self) -> Flow2DConfig:
        if self.dataset not in toy2d.DISTRIBUTIONS or self.dataset == "drawn":
            names = ", ".join(k for k in toy2d.DISTRIBUTIONS if k != "drawn")
            raise ValueError(f"Unknown data set {self.dataset!r}; choose from {names}.")
        if self.coupling not in flow.COUPLINGS:
            raise ValueError(f"Unknown coupling {self.coupling!r}; choose from {', '.join(flow.COUPLINGS)}.")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 0.1):
            raise ValueError("The learning rate must be a number in (0, 0.1].")
        return self


@dataclass
class Flow2D:
    config: Flow2DConfig = field(default_factory=Flow2DConfig)
    teacher: Flow2D | None = None  # for "reflow": the trained flow whose (noise, output) pairs this one learns
    iteration: int = field(init=False, default=0)
    history: list[dict[str, float]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        c = self.config.check()
        if c.coupling == "reflow" and (self.teacher is None or not self.teacher.history):
            raise ValueError("Reflow straightens a trained flow: train one with another coupling first.")
        self.data = toy2d.sample(c.dataset, 4_000, torch.Generator().manual_seed(c.seed))
        self.points = self.data.points / DATA_SCALE
        self.model = seeded_init(TimeMLP(c.hidden, c.depth, time_scale=1.0), torch.Generator().manual_seed(c.seed + 1))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=c.lr)
        self.rng = torch.Generator().manual_seed(c.seed + 2)
        self._next_pairs: Future | None = None  # OT coupling: the next batch, being paired
        if c.coupling == "reflow":  # the teacher's pairs, once: (x_0, where the teacher's flow takes it)
            noise = torch.randn(REFLOW_PAIRS, 2, generator=torch.Generator().manual_seed(c.seed + 3))
            self.reflow_pairs = (noise, flow.integrate(self.teacher.velocity, noise, "rk4", 20)[-1])

    def _draw(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A minibatch of noise and data, drawn independently (model space)."""
        c = self.config
        x0 = torch.randn(c.batch_size, 2, generator=self.rng)
        return x0, self.points[torch.randint(len(self.points), (c.batch_size,), generator=self.rng)]

    def pairs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A minibatch of (x_0 noise, x_1 data) pairs under the configured coupling (model space)."""
        c = self.config
        if c.coupling == "reflow":
            pick = torch.randint(REFLOW_PAIRS, (c.batch_size,), generator=self.rng)
            return self.reflow_pairs[0][pick], self.reflow_pairs[1][pick]
        if c.coupling != "ot":
            return self._draw()
        # The assignment of the next batch runs on another thread while this one trains (SciPy releases
        # the GIL): live OT training then costs about what independent pairs cost. The batches are drawn
        # here, in order, so the run is the same whatever the threads' timing.
        if self._next_pairs is None:
            self._next_pairs = _PAIRING.submit(_ot_paired, *self._draw())
        current = self._next_pairs.result()
        self._next_pairs = _PAIRING.submit(_ot_paired, *self._draw())
        return current

    def train_step(self) -> float:
        x0, x1 = self.pairs()
        t = torch.rand(len(x0), generator=self.rng)
        loss = ((self.model(flow.interpolate(x0, x1, t), t) - flow.target_velocity(x0, x1)) ** 2).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.iteration += 1
        return loss.item()

    def train(self, iterations: int, stop: threading.Event | None = None, every: int = 100) -> Iterator[dict]:
        """Train `iterations` more steps, yielding {iteration, loss (smoothed), seconds} every `every` steps."""
        return train_iterations(self, iterations, stop, every)

    # --- sampling and read-outs (model space inside, plot space out) ---

    @torch.no_grad()
    def velocity(self, x: torch.Tensor, t: float) -> torch.Tensor:
        return self.model(x, torch.full((len(x),), float(t)))

    def trajectories(self, n: int = 500, solver: str = "euler", steps: int = 20, seed: int = 0) -> list[torch.Tensor]:
        """Particles from the seed's noise to the flow's samples: steps + 1 positions (plot space)."""
        start = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
        return [x * DATA_SCALE for x in flow.integrate(self.velocity, start, solver, steps)]

    @torch.no_grad()
    def field(self, t: float, steps: int = FIELD_STEPS) -> tuple[torch.Tensor, torch.Tensor]:
        """Grid points and the velocity there at time t (plot space)."""
        points = toy2d.grid(steps=steps)
        return points, self.velocity(points / DATA_SCALE, t) * DATA_SCALE

    def readouts(self, path: list[torch.Tensor]) -> dict[str, float | None]:
        """Straightness, transport cost (noise to sample, plot units squared) and quality of the endpoints."""
        reference = toy2d.Toy2D(self.data.points[:1_000], self.data.modes, self.data.mode_std, self.data.name)
        quality = metrics.metrics_2d(path[-1], reference)
        return {
            "straightness": flow.straightness(path),
            "transport_cost": flow.transport_cost(path[0], path[-1]),
            "mmd": quality.mmd,
            "coverage": quality.coverage,
        }

    def mmd_by_steps(self, step_counts=(1, 2, 4, 8, 16, 32), n: int = 500, seed: int = 0) -> dict[str, list[dict]]:
        """MMD to the data of samples from each solver at each step count (same noise for all)."""
        reference = toy2d.Toy2D(self.data.points[:1_000], self.data.modes, self.data.mode_std, self.data.name)
        out: dict[str, list[dict]] = {}
        for solver in flow.SOLVERS:
            rows = []
            for steps in step_counts:
                final = self.trajectories(n, solver, steps, seed)[-1]
                rows.append(
                    {
                        "steps": steps,
                        "evaluations": steps * flow.EVALUATIONS_PER_STEP[solver],
                        "mmd": metrics.mmd_rbf(final, reference.points),
                    }
                )
            out[solver] = rows
        return out
