"""Flow matching, written for reading: paths, couplings, the training target, and ODE solvers.

Convention (as in Lipman et al. 2023 and torchcfm): time runs from t = 0 (noise, x_0 ~ N(0, I))
to t = 1 (data, x_1). A flow moves samples along a velocity field v(x, t); sampling integrates
dx/dt = v(x, t) from t = 0 to t = 1.

Conditional flow matching (Lipman et al. 2023, https://arxiv.org/abs/2210.02747; Tong et al.
2024, https://arxiv.org/abs/2302.00482) with straight paths between a pair (x_0, x_1):

    x_t = (1 - t) x_0 + t x_1,      u_t = d x_t / dt = x_1 - x_0

(the optional sigma_min blurs the path by sigma_min * eps; 0 here). The network v_theta(x_t, t)
regresses u_t; the average of all pairs' u_t through a point is the marginal field that carries
the noise distribution to the data distribution.

Which x_0 goes with which x_1 is the coupling:
- "independent": random pairs (plain CFM); paths cross, so the learned field bends;
- "ot": within each minibatch, the pairing that minimises the total squared distance (exact
  assignment, scipy's linear_sum_assignment): minibatch optimal transport (OT-CFM), straighter;
- "reflow": pairs (x_0, flow(x_0)) from an already trained flow (rectified flow, Liu et al. 2023,
  https://arxiv.org/abs/2209.03003): training on its own outputs straightens the paths.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import torch

COUPLINGS = {
    "independent": "Independent pairs (CFM)",
    "ot": "Minibatch optimal transport (OT-CFM)",
    "reflow": "Rectified flow (reflow of a trained flow)",
}
SOLVERS = {
    "euler": "Euler (1 evaluation per step)",
    "midpoint": "Midpoint (2 per step)",
    "rk4": "Runge-Kutta 4 (4 per step)",
}
EVALUATIONS_PER_STEP = {"euler": 1, "midpoint": 2, "rk4": 4}

Field = Callable[[torch.Tensor, float], torch.Tensor]  # v(x, t) for a batch x at one time t


# --- 1. The path and its target ---


def interpolate(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 - t) x_0 + t x_1, with t per sample (shape (N,) or broadcastable)."""
    t = t.reshape(-1, *([1] * (x0.dim() - 1)))
    return (1 - t) * x0 + t * x1


def target_velocity(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """u_t = x_1 - x_0: the constant speed along the straight path from x_0 to x_1."""
    return x1 - x0


# --- 2. Couplings ---


def ot_pairing(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """The permutation p minimising sum_i |x0[i] - x1[p[i]]|^2 (exact, Hungarian algorithm)."""
    from scipy.optimize import linear_sum_assignment

    a, b = x0.flatten(1).double().numpy(), x1.flatten(1).double().numpy()
    # |a|^2 - 2 a.b + |b|^2 in NumPy: for small batches torch.cdist's call overhead outweighs the arithmetic
    cost = (a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None, :]
    rows, cols = linear_sum_assignment(cost)
    permutation = np.empty(len(rows), dtype=np.int64)
    permutation[rows] = cols
    return torch.from_numpy(permutation)


def brute_force_pairing(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """The same optimum by trying every permutation (tiny batches only: the reference for tests)."""
    n = len(x0)
    if n > 8:
        raise ValueError("Brute force is for at most 8 points.")
    cost = torch.cdist(x0.flatten(1).double(), x1.flatten(1).double()).pow(2)
    best = min(itertools.permutations(range(n)), key=lambda p: sum(cost[i, j].item() for i, j in enumerate(p)))
    return torch.tensor(best)


def transport_cost(x0: torch.Tensor, x1: torch.Tensor) -> float:
    """Mean squared distance between paired points: what optimal transport minimises."""
    return (x1 - x0).flatten(1).pow(2).sum(dim=1).mean().item()


# --- 3. Solvers: integrate dx/dt = v(x, t) from t = 0 to 1 ---


def advance(field: Field, solver: str, x: torch.Tensor, t: float, h: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One solver step from t to t + h: (x at t + h, v(x, t)). Every solver evaluates v(x, t) first;
    handing it back lets a caller show where the field points without paying for another evaluation."""
    k1 = field(x, t)
    if solver == "euler":  # x + h v(x, t)
        return x + h * k1, k1
    if solver == "midpoint":  # half a step to look ahead, then the full step with the midpoint's slope
        return x + h * field(x + 0.5 * h * k1, t + 0.5 * h), k1
    if solver == "rk4":  # the classic fourth-order Runge-Kutta
        k2 = field(x + 0.5 * h * k1, t + 0.5 * h)
        k3 = field(x + 0.5 * h * k2, t + 0.5 * h)
        k4 = field(x + h * k3, t + h)
        return x + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4), k1
    raise ValueError(f"Unknown solver {solver!r}; choose from {', '.join(SOLVERS)}.")


def check_solver(solver: str, steps) -> int:
    if solver not in SOLVERS:
        raise ValueError(f"Unknown solver {solver!r}; choose from {', '.join(SOLVERS)}.")
    try:
        value = float(steps)
    except (TypeError, ValueError):
        raise ValueError("The number of steps must be a number.") from None
    if not (np.isfinite(value) and value.is_integer() and 1 <= value <= 1000):
        raise ValueError("Choose a whole number of steps from 1 to 1,000.")
    return int(value)


@torch.no_grad()
def integrate(field: Field, x0: torch.Tensor, solver: str = "euler", steps: int = 10) -> list[torch.Tensor]:
    """The trajectory [x at t = 0, x at t = 1/steps, ..., x at t = 1] (steps + 1 tensors)."""
    steps = check_solver(solver, steps)
    h = 1.0 / steps
    path = [x0]
    x = x0
    for i in range(steps):
        x, _ = advance(field, solver, x, i * h, h)
        path.append(x)
    return path


def straightness(path: list[torch.Tensor]) -> float:
    """How straight the trajectories are: |x_1 - x_0| over the length travelled, averaged (1 = straight).

    A flow whose particles travel straight lines can be integrated in a single Euler step.
    """
    travelled = sum((b - a).flatten(1).norm(dim=1) for a, b in itertools.pairwise(path))
    direct = (path[-1] - path[0]).flatten(1).norm(dim=1)
    return (direct / travelled.clamp_min(1e-12)).mean().item()
