"""core.flow2d: the live 2-D flow learns, its couplings straighten the paths, and it starts from the diffusion tab's noise."""

from __future__ import annotations

import math

import pytest
import torch

from core import flow
from core.device import single_cpu_thread
from core.diffusion2d import DATA_SCALE, Diffusion2D, Diffusion2DConfig
from core.flow2d import Flow2D, Flow2DConfig

ITERATIONS = 1_000
STEPS = 20  # Euler steps for every read-out below


def trained_flow(coupling: str, iterations: int = ITERATIONS, teacher: Flow2D | None = None) -> Flow2D:
    model = Flow2D(Flow2DConfig(dataset="8gaussians", coupling=coupling, seed=0), teacher=teacher)
    with single_cpu_thread():
        list(model.train(iterations, every=100))
    return model


def readouts(model: Flow2D, seed: int = 1) -> dict:
    return model.readouts(model.trajectories(500, "euler", STEPS, seed))


@pytest.fixture(scope="module")
def independent() -> Flow2D:
    return trained_flow("independent")


@pytest.fixture(scope="module")
def ot() -> Flow2D:
    return trained_flow("ot")


# --- learning and sampling ---


def test_training_records_the_loss(independent):
    assert independent.iteration == ITERATIONS
    assert [h["iteration"] for h in independent.history] == list(range(100, ITERATIONS + 1, 100))
    losses = [h["loss"] for h in independent.history]
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0]


def test_samples_cover_the_modes_and_match_the_data(independent):
    r = readouts(independent)
    assert r["coverage"] >= 0.75, r
    assert r["mmd"] < 0.3, r


def test_trajectories_start_from_the_seeds_noise_and_keep_every_step(independent):
    n, seed = 300, 7
    path = independent.trajectories(n, "euler", STEPS, seed)
    assert len(path) == STEPS + 1
    assert all(x.shape == (n, 2) for x in path)
    noise = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed)) * DATA_SCALE
    torch.testing.assert_close(path[0], noise)
    assert not torch.allclose(path[-1], path[0])


def test_flow_and_diffusion_start_from_the_same_noise(independent):
    n, seed = 300, 7
    untrained = Diffusion2D(Diffusion2DConfig(dataset="8gaussians", seed=0))  # the noise does not need training
    kept, _ = untrained.sample(n, "ddim", 5, seed)
    torch.testing.assert_close(kept[0].x_t, independent.trajectories(n, "euler", 3, seed)[0])


def test_same_seed_same_samples_different_seed_different(independent):
    a = independent.trajectories(50, "midpoint", 5, seed=3)[-1]
    b = independent.trajectories(50, "midpoint", 5, seed=3)[-1]
    c = independent.trajectories(50, "midpoint", 5, seed=4)[-1]
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


# --- couplings ---


def test_ot_pairs_cost_less_than_independent_pairs_of_the_same_points():
    ot_model = Flow2D(Flow2DConfig(coupling="ot", seed=3))
    plain = Flow2D(Flow2DConfig(coupling="independent", seed=3))
    (ot_x0, ot_x1), (x0, x1) = ot_model.pairs(), plain.pairs()
    torch.testing.assert_close(ot_x0, x0)  # same generator state: the same noise ...
    torch.testing.assert_close(ot_x1.sort(dim=0).values, x1.sort(dim=0).values)  # ... and the same data, re-paired
    assert flow.transport_cost(ot_x0, ot_x1) < flow.transport_cost(x0, x1)


def test_an_ot_flow_is_straighter_than_an_independent_one(independent, ot):
    assert ot.iteration == independent.iteration == ITERATIONS
    straight_ot, straight_plain = readouts(ot)["straightness"], readouts(independent)["straightness"]
    assert straight_ot > straight_plain, (straight_ot, straight_plain)
    assert readouts(ot)["coverage"] >= 0.75


def test_reflow_without_a_trained_teacher_is_refused():
    with pytest.raises(ValueError, match="train"):
        Flow2D(Flow2DConfig(coupling="reflow"))
    with pytest.raises(ValueError, match="train"):
        Flow2D(Flow2DConfig(coupling="reflow"), teacher=Flow2D(Flow2DConfig()))  # a teacher that never trained


def test_reflow_straightens_its_teacher(independent):
    reflow = trained_flow("reflow", iterations=500, teacher=independent)
    assert reflow.teacher is independent
    straight_reflow, straight_teacher = readouts(reflow)["straightness"], readouts(independent)["straightness"]
    assert straight_reflow > straight_teacher, (straight_reflow, straight_teacher)


@pytest.mark.parametrize("coupling", ["independent", "ot"])
def test_two_flows_with_the_same_config_train_identically(coupling):
    a, b = (Flow2D(Flow2DConfig(dataset="moons", coupling=coupling, seed=5)) for _ in range(2))
    for model in (a, b):
        list(model.train(20, every=10))
    assert [(h["iteration"], h["loss"]) for h in a.history] == [(h["iteration"], h["loss"]) for h in b.history]
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q)


# --- read-outs ---


def test_the_field_gives_a_velocity_at_every_grid_point(independent):
    points, velocities = independent.field(0.0)
    assert points.shape == velocities.shape and points.shape[1] == 2
    assert len(points) == 21 * 21
    points, velocities = independent.field(0.5, steps=9)
    assert points.shape == velocities.shape == (81, 2)
    # at t = 0 the marginal field is E[x_1] - x_0 ~ -x_0: far from the data, arrows point back inwards
    points, velocities = independent.field(0.0)
    far = points.norm(dim=1) > 5
    inward = (velocities[far] * -points[far]).sum(dim=1) > 0
    assert inward.float().mean() > 0.9


def test_readouts_report_straightness_cost_and_quality(independent):
    r = readouts(independent)
    assert set(r) == {"straightness", "transport_cost", "mmd", "coverage"}
    assert 0 < r["straightness"] <= 1 + 1e-6
    assert r["transport_cost"] > 0


def test_mmd_by_steps_has_a_row_per_solver_and_step_count(independent):
    table = independent.mmd_by_steps(step_counts=(1, 3), n=200, seed=0)
    assert list(table) == ["euler", "midpoint", "rk4"]
    for solver, per_step in (("euler", 1), ("midpoint", 2), ("rk4", 4)):
        rows = table[solver]
        assert [r["steps"] for r in rows] == [1, 3]
        assert [r["evaluations"] for r in rows] == [per_step, 3 * per_step]
        assert all(math.isfinite(r["mmd"]) for r in rows)


# --- bad settings ---


@pytest.mark.parametrize(
    "change, message",
    [
        ({"dataset": "galaxy"}, "Unknown data set"),
        ({"dataset": "drawn"}, "Unknown data set"),
        ({"coupling": "nope"}, "Unknown coupling"),
        ({"lr": 0.0}, "learning rate"),
        ({"lr": math.nan}, "learning rate"),
    ],
    ids=repr,
)
def test_bad_settings_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        Flow2D(Flow2DConfig(**change))


@pytest.mark.parametrize("iterations", [0, 20_001])
def test_iteration_bounds(iterations):
    with pytest.raises(ValueError, match="iterations"):
        list(Flow2D(Flow2DConfig()).train(iterations))
