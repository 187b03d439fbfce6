"""The flow-matching tab's handlers: train a 2-D flow live, follow its particles, and race it against diffusion.

Each browser session keeps its flows in a `FlowSession` (gr.State): the current flow, the one
before it (a reflow's teacher), its last trajectories, and a 2-D diffusion model trained on the
same data and seed for the side-by-side.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import gradio as gr
import torch

from core import flow, seeding
from core.device import single_cpu_thread, single_threaded
from core.diffusion2d import MAX_ITERATIONS, Diffusion2D, Diffusion2DConfig
from core.flow2d import Flow2D, Flow2DConfig
from core.flow_models import FlowRun
from core.live_slots import LIVE_TRAINING, waiting_message
from core.metrics import mmd_rbf
from tabs import flow_view as view
from tabs import toy_views

PARTICLES = 500
COMPARE_ITERATIONS = 3_000  # the diffusion model trained for the side-by-side
COMPARE_STEPS = (1, 2, 4, 8, 16, 32, 64)


@dataclass
class FlowSession:
    model: Flow2D | None = None
    previous: Flow2D | None = None  # the flow a reflow learns from
    path: list[torch.Tensor] = field(default_factory=list)
    summary: str = ""  # the read-outs of the last sampling run, kept on screen while scrubbing it
    diffusion: Diffusion2D | None = None
    image_run: FlowRun | None = None  # the image half (tabs.flow_image_handlers): the last sampling run
    stop: threading.Event = field(default_factory=threading.Event)


def close_session(session: FlowSession | None) -> None:  # gr.State's delete_callback
    if session is not None:
        session.stop.set()
        session.model = session.previous = session.diffusion = session.image_run = None


def _number(value, name: str, whole: bool = True) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise gr.Error(f"The {name} must be a number.") from None
    if number != number or abs(number) == float("inf") or (whole and not number.is_integer()):
        raise gr.Error(f"The {name} must be a {'whole ' if whole else ''}finite number.")
    return number


def _seed(value) -> int:
    try:
        return seeding.check_seed(value)
    except (TypeError, ValueError) as err:
        raise gr.Error(str(err)) from None


def _teacher(session: FlowSession, config: Flow2DConfig) -> Flow2D:
    """The flow a reflow learns from: the latest non-reflow flow of this session, on the same data and seed."""
    latest = session.model
    if latest is not None and latest.config.coupling == "reflow":
        latest = latest.teacher  # never reflow a reflow's output: go back to the flow it straightened
    if latest is None or not latest.history:
        raise gr.Error("Reflow straightens a trained flow: train one with another coupling first.")
    if (latest.config.dataset, latest.config.seed) != (config.dataset, config.seed):
        raise gr.Error(
            f"Reflow straightens the flow you trained last ({latest.config.dataset}, seed {latest.config.seed}); "
            "train one on this data set and seed first, or pick those."
        )
    return latest


def train(session, dataset, coupling, iterations, seed):
    session = session or FlowSession()
    iterations = int(_number(iterations, "number of iterations"))
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise gr.Error(f"Choose between 1 and {MAX_ITERATIONS:,} iterations.")
    try:
        config = Flow2DConfig(dataset=dataset, coupling=coupling, seed=seeding.check_seed(seed)).check()
    except ValueError as err:
        raise gr.Error(str(err)) from None
    model = session.model
    if model is None or model.config != config:
        teacher = _teacher(session, config) if coupling == "reflow" else None
        try:
            model = Flow2D(config, teacher=teacher)
        except ValueError as err:
            raise gr.Error(str(err)) from None
        session.previous, session.model, session.path, session.summary = session.model, model, [], ""
    session.stop.clear()
    yield session, gr.update(), "Starting…"
    ticket = LIVE_TRAINING.join()
    status = "Stopped before any training."
    try:
        for position in ticket.wait(session.stop):
            yield session, gr.update(), waiting_message(position, LIVE_TRAINING.capacity)
        if not ticket.admitted:
            yield session, gr.update(), "Stopped before training began: you left the line."
            return
        # a small MLP: one thread is faster
        for entry in single_threaded(model.train(iterations, stop=session.stop, every=max(50, iterations // 40))):
            status = f"Iteration {entry['iteration']:,}: loss {entry['loss']:.3f} ({entry['seconds']:.1f} s this run)."
            yield session, toy_views.loss_figure(model.history, "velocity MSE"), status
        if model.history:
            status += " Now press Sample."
        yield session, toy_views.loss_figure(model.history, "velocity MSE"), status
    except ValueError as err:
        raise gr.Error(str(err)) from None
    finally:
        ticket.leave()


def stop(session) -> None:
    if session is not None:
        session.stop.set()


def _trained(session) -> Flow2D:
    if session is None or session.model is None or not session.model.history:
        raise gr.Error("Train a flow first (a few seconds).")
    return session.model


def sample(session, solver, steps, seed, show_field):
    model = _trained(session)
    try:
        steps = flow.check_solver(solver, steps)
        with single_cpu_thread():
            session.path = model.trajectories(PARTICLES, solver, steps, seeding.check_seed(seed))
            readouts = model.readouts(session.path)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    coverage = "" if readouts["coverage"] is None else f", modes covered {readouts['coverage']:.0%}"
    session.summary = (
        f"{flow.SOLVERS[solver].split(' (')[0]}, {steps} steps ({steps * flow.EVALUATIONS_PER_STEP[solver]} network "
        f"evaluations). Straightness {readouts['straightness']:.3f} (1 = straight lines), transport cost "
        f"{readouts['transport_cost']:.2f}, MMD to the data {readouts['mmd']:.4f}{coverage}."
    )
    figure, status = _particles(session, steps, show_field)
    densities = view.densities_figure(session.path, model.data.points)
    return session, figure, gr.update(maximum=steps, value=steps), status, densities


def _particles(session: FlowSession, index: int, show_field: bool):
    path, model = session.path, session.model
    index = min(max(index, 0), len(path) - 1)
    t = index / (len(path) - 1)
    field = (*model.field(t), f"velocity at t = {t:.2f}") if show_field else None
    return toy_views.particles_figure(model.data.points, path, index, field), f"{session.summary} Showing t = {t:.2f}."


def scrub(session, index, show_field):
    if session is None or session.model is None or not session.path:
        return gr.update(), "Train, then Sample, to get particles to follow."
    return _particles(session, int(_number(index, "step")), show_field)


def solvers_chart(session, seed):
    model = _trained(session)
    with single_cpu_thread():
        table = model.mmd_by_steps(seed=_seed(seed))
    return view.solvers_figure(table)


def compare(session, steps, seed):
    """The same noise through the diffusion model's probability-flow ODE (DDIM, eta 0) and through the flow."""
    model = _trained(session)
    steps = int(_number(steps, "number of steps"))
    seed = _seed(seed)
    if not 1 <= steps <= 200:
        raise gr.Error("Compare with 1 to 200 steps.")
    config = Diffusion2DConfig(dataset=model.config.dataset, seed=model.config.seed)
    if session.diffusion is None or session.diffusion.config != config:
        yield (
            session,
            gr.update(),
            gr.update(),
            gr.update(),
            (
                f"Training the 2-D diffusion model on the same data and seed ({COMPARE_ITERATIONS:,} iterations, "
                "about 10 seconds)…"
            ),
        )
        session.stop.clear()
        ticket = LIVE_TRAINING.join()  # training, even this short one, waits its turn like any other
        try:
            for position in ticket.wait(session.stop):
                yield session, gr.update(), gr.update(), gr.update(), waiting_message(position, LIVE_TRAINING.capacity)
            if not ticket.admitted:
                yield session, gr.update(), gr.update(), gr.update(), "Stopped before the diffusion model trained."
                return
            trained = Diffusion2D(config)
            with single_cpu_thread():
                list(trained.train(COMPARE_ITERATIONS, stop=session.stop, every=COMPARE_ITERATIONS))
        finally:
            ticket.leave()
        if session.stop.is_set():
            yield session, gr.update(), gr.update(), gr.update(), "Stopped while the diffusion model trained."
            return
        session.diffusion = trained
    with single_cpu_thread():
        kept, final = session.diffusion.sample(PARTICLES, "ddim", steps, seed)
        diffusion_path = [k.x_t for k in kept] + [final]
        flow_path = model.trajectories(PARTICLES, "euler", steps, seed)
        curves = {"flow (Euler)": [], "diffusion (DDIM, probability-flow ODE)": []}
        reference = model.data.points[:1_000]
        for n in COMPARE_STEPS:
            curves["flow (Euler)"].append((n, mmd_rbf(model.trajectories(PARTICLES, "euler", n, seed)[-1], reference)))
            curves["diffusion (DDIM, probability-flow ODE)"].append(
                (n, mmd_rbf(session.diffusion.sample(PARTICLES, "ddim", n, seed)[1], reference))
            )
    same_start = torch.allclose(diffusion_path[0], flow_path[0])
    left = toy_views.particles_figure(model.data.points, diffusion_path, steps, None, f"Diffusion: DDIM, {steps} steps")
    right = toy_views.particles_figure(model.data.points, flow_path, steps, None, f"Flow: Euler, {steps} steps")
    note = (
        f"Both start from the same {PARTICLES} noise points (seed {seed}{'' if same_start else ' — differ!'}); "
        f"straightness: diffusion {flow.straightness(diffusion_path):.3f}, flow {flow.straightness(flow_path):.3f}. "
        f"The diffusion model was trained here for {COMPARE_ITERATIONS:,} iterations on the same data and seed."
    )
    yield session, left, right, view.compare_figure(curves), note
