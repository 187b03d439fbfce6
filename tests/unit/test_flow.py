"""core.flow: known answers for the path, the target, the solvers and the optimal-transport coupling."""

from __future__ import annotations

import pytest
import torch

from core import flow


def test_the_path_runs_straight_from_noise_to_data():
    x0, x1 = torch.randn(5, 2), torch.randn(5, 2)
    torch.testing.assert_close(flow.interpolate(x0, x1, torch.zeros(5)), x0)
    torch.testing.assert_close(flow.interpolate(x0, x1, torch.ones(5)), x1)
    t = torch.linspace(0, 1, 5)
    torch.testing.assert_close(flow.interpolate(x0, x1, t), (1 - t)[:, None] * x0 + t[:, None] * x1)


def test_the_target_is_the_time_derivative_of_the_path():
    x0, x1 = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    t = torch.tensor([0.1, 0.5, 0.9], requires_grad=True)
    x_t = flow.interpolate(x0, x1, t)
    (d_dt,) = torch.autograd.grad(x_t, t, grad_outputs=torch.ones_like(x_t))  # per sample: sum of d x_t / dt
    torch.testing.assert_close(d_dt, flow.target_velocity(x0, x1).sum(dim=(1, 2, 3)))


@pytest.mark.parametrize("solver", list(flow.SOLVERS))
@pytest.mark.parametrize("steps", [1, 3, 10])
def test_a_constant_field_moves_every_point_by_exactly_its_velocity(solver, steps):
    velocity = torch.tensor([0.5, -2.0])
    path = flow.integrate(lambda x, t: velocity.expand_as(x), torch.zeros(4, 2), solver, steps)
    assert len(path) == steps + 1
    torch.testing.assert_close(path[-1], velocity.expand(4, 2))
    assert flow.straightness(path) == pytest.approx(1.0)


def _three_t_squared(x, t):
    return torch.full_like(x, 3 * t * t)


@pytest.mark.parametrize(
    "solver, steps, tolerance",
    [
        ("rk4", 1, 1e-12),  # Simpson's rule: exact for a quadratic in t
        ("midpoint", 100, 3e-5),  # second order: error h^2 / 4
        ("euler", 1000, 2e-3),  # first order: error 3h / 2
    ],
)
def test_every_solver_integrates_three_t_squared_to_one(solver, steps, tolerance):
    path = flow.integrate(_three_t_squared, torch.zeros(1, 1, dtype=torch.float64), solver, steps)
    assert path[-1].item() == pytest.approx(1.0, abs=tolerance)


def test_solver_errors_shrink_with_their_order():
    def error(solver, steps):
        return abs(
            flow.integrate(_three_t_squared, torch.zeros(1, 1, dtype=torch.float64), solver, steps)[-1].item() - 1
        )

    assert error("euler", 20) / error("euler", 40) == pytest.approx(2, rel=0.1)
    assert error("midpoint", 20) / error("midpoint", 40) == pytest.approx(4, rel=0.1)


@pytest.mark.parametrize("seed", range(5))
def test_ot_pairing_equals_brute_force_on_tiny_batches(seed):
    generator = torch.Generator().manual_seed(seed)
    x0, x1 = torch.randn(6, 2, generator=generator), torch.randn(6, 2, generator=generator)
    fast, slow = flow.ot_pairing(x0, x1), flow.brute_force_pairing(x0, x1)
    assert sorted(fast.tolist()) == list(range(6))
    assert flow.transport_cost(x0, x1[fast]) == pytest.approx(flow.transport_cost(x0, x1[slow]), rel=1e-9)


def test_ot_pairing_never_costs_more_than_random_pairs():
    generator = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(128, 2, generator=generator), 3 + torch.randn(128, 2, generator=generator)
    assert flow.transport_cost(x0, x1[flow.ot_pairing(x0, x1)]) < flow.transport_cost(x0, x1)


def test_straightness_of_a_detour_is_below_one():
    path = [torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 1.0]]), torch.tensor([[2.0, 0.0]])]
    assert flow.straightness(path) == pytest.approx(2 / (2 * 2**0.5))


@pytest.mark.parametrize(
    "solver, steps", [("heun", 10), ("euler", 0), ("rk4", 1001), ("midpoint", 2.5), ("euler", float("nan"))]
)
def test_bad_solver_settings_are_refused(solver, steps):
    with pytest.raises(ValueError):
        flow.integrate(_three_t_squared, torch.zeros(1, 1), solver, steps)
