"""The diffusion tab's handlers: the forward process, image timelines and branches, and the live 2-D model.

Compute is core's (core.diffusion, core.diffusion_models, core.diffusion2d); pictures are
tabs.diffusion_view's. Each browser session keeps its runs in a `DiffusionSession` (gr.State):
the image timeline and its branch (every step's x_t, x0_hat and eps) and the 2-D model with its
last sampling run, so scrubbing is instant and a branch can start from any kept step.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import gradio as gr
import torch

from core import diffusion, images, seeding, toy2d
from core import diffusion_models as dm
from core.assets import AssetError
from core.device import single_cpu_thread, single_threaded
from core.diffusion2d import DATA_SCALE, Diffusion2D, Diffusion2DConfig
from core.live_slots import LIVE_TRAINING, waiting_message
from tabs import diffusion_view as view
from tabs import toy_views
from tabs.exports import export_path
from tabs.image_views import gif_of_pictures
from tabs.inputs import kept_step, whole_number

STREAM_SECONDS = 0.1  # a sampling run sends a frame at most this often (and after its first step)
GIF_FRAMES = 60
PLAY_SECONDS = 0.08  # between frames when playing a kept run


@dataclass
class DiffusionSession:
    timeline: dm.Timeline | None = None
    branch: dm.Timeline | None = None
    model2d: Diffusion2D | None = None
    kept2d: list[diffusion.Kept] = field(default_factory=list)
    final2d: torch.Tensor | None = None
    stop: threading.Event = field(default_factory=threading.Event)


def close_session(session: DiffusionSession | None) -> None:  # gr.State's delete_callback
    if session is not None:
        session.stop.set()
        session.model2d = None


def _error(err: Exception) -> gr.Error:
    # a KeyError's str() wraps its message in quotes
    return gr.Error(str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err))


# --- the forward process ---


def forward_view(dataset: str, index, t):
    """x_t of a test image (or of a 2-D data set, "2d:<name>") at t, and the schedules with t marked."""
    index, t = whole_number(index, "image number"), whole_number(t, "timestep")
    if not 0 <= t < diffusion.T:
        raise gr.Error(f"t runs from 0 to {diffusion.T - 1}.")
    if isinstance(dataset, str) and dataset.startswith("2d:"):
        try:
            points = toy2d.sample(dataset[3:], 1_000, seeding.generator(index)).points / DATA_SCALE
        except ValueError as err:
            raise _error(err) from None
        noise = seeding.initial_noise(index, points.shape)
        return view.forward_points_image(points, noise, t), view.schedule_figure(t)
    try:
        test = images.load_subset(dataset, "test")
    except ValueError as err:
        raise _error(err) from None
    if not 0 <= index < len(test):
        raise gr.Error(f"Pick a test image from 0 to {len(test) - 1}.")
    x0 = test.images[index : index + 1]
    noise = seeding.initial_noise(index, x0.shape)
    return view.forward_image(x0, noise, t), view.schedule_figure(t)


# --- image timelines ---


def quality_chart():
    table = dm.quality_table()
    if table is None:
        return None, "No quality-vs-steps measurements yet: `python -m bench diffusion` writes them."
    note = (
        f"Measured on {table.get('device', 'this machine')}; FD of real images: {table['fd_floor']}. {table['note']}."
    )
    return view.quality_figure(table), note


def classes_from_choice(choice, batch: int) -> list[int] | None:
    """The class dropdown's value (-1: any class; "mixed": 0..9 in turn) as one class per image."""
    if choice in (None, -1, "-1", "any"):
        return None
    if choice == "mixed":
        return [i % 10 for i in range(batch)]
    try:
        label = int(choice)
    except (TypeError, ValueError):
        raise gr.Error(f"Unknown class {choice!r}.") from None
    if not 0 <= label <= 9:
        raise gr.Error("Pick a class from the list.")
    return [label] * batch


def _step_status(timeline: dm.Timeline, index: int) -> str:
    kept = timeline.kept[index]
    return (
        f"Step {index + 1} of {timeline.steps}: t = {kept.t}, the sample entering this step, the model's guess of "
        f"the clean image, and its guess of the noise. ({timeline.describe()})"
    )


def _stream(session: DiffusionSession, runner, attribute: str, note_done):
    """Drive a dm.run generator, keeping its timeline in the session; yield (picture, slider, status) frames."""
    last_sent = 0.0
    for timeline in runner:
        setattr(session, attribute, timeline)
        now = time.perf_counter()
        if timeline.done:
            yield timeline, note_done(timeline)
            return
        if len(timeline.kept) == 1 or now - last_sent >= STREAM_SECONDS:
            last_sent = now
            yield timeline, None


def sample_images(session, dataset, class_choice, sampler, steps, eta, seed, batch):
    session = session or DiffusionSession()
    try:
        model = dm.shipped(dataset)
        batch = dm.check_batch(batch)
        runner = dm.run(model, sampler, steps, eta, seed, classes_from_choice(class_choice, batch), batch)
        first = next(runner)  # validates everything before the first frame goes out
    except (ValueError, KeyError, AssetError) as err:
        raise _error(err) from None
    session.timeline, session.branch = first, None

    def chained():
        yield first
        yield from runner

    for timeline, done in _stream(session, chained(), "timeline", lambda tl: tl):
        index = len(timeline.kept) - 1
        status = _step_status(timeline, index)
        slider = gr.update(maximum=timeline.steps, value=index + 1)
        if done is not None:
            status = (
                f"Done: {timeline.describe()} in {timeline.seconds:.2f} s. Drag the step slider to look back "
                "at any step; branch from it below."
            )
            slider = gr.update(maximum=timeline.steps, value=timeline.steps)
        yield session, view.lanes_image(timeline.kept[index]), slider, status


def scrub(session, step):
    """Show kept step `step` (1-based) of the session's run."""
    if session is None or session.timeline is None or not session.timeline.kept:
        return gr.update(), "Run the sampler first."
    timeline = session.timeline
    index = kept_step(step, len(timeline.kept))
    return view.lanes_image(timeline.kept[index]), _step_status(timeline, index)


def play(session, step):
    """Animate the kept run from the slider's step to its end (from the start if already at the end)."""
    if session is None or session.timeline is None or not session.timeline.kept:
        raise gr.Error("Run the sampler first.")
    timeline = session.timeline
    first = min(max(whole_number(step, "step"), 1), len(timeline.kept))
    first = 1 if first >= len(timeline.kept) else first
    for number in range(first, len(timeline.kept) + 1):
        yield view.lanes_image(timeline.kept[number - 1]), gr.update(value=number), _step_status(timeline, number - 1)
        time.sleep(PLAY_SECONDS)


def branch(session, step, sampler, steps, eta, seed):
    """Continue the session's run from kept step `step` with other settings; show both endings."""
    if session is None or session.timeline is None or not session.timeline.done:
        raise gr.Error("Run the sampler to the end first; then branch from any of its steps.")
    source = session.timeline
    try:
        model = dm.shipped(source.dataset)
        runner = dm.run(model, sampler, steps, eta, seed, branch_of=(source, whole_number(step, "step") - 1))
        first = next(runner)
    except (ValueError, TypeError, KeyError, AssetError) as err:
        raise _error(err) from None

    def chained():
        yield first
        yield from runner

    for timeline, done in _stream(session, chained(), "branch", lambda tl: tl):
        if done is None:
            kept = timeline.kept[-1]
            yield (
                session,
                view.lanes_image(kept),
                f"Branch: step {len(timeline.kept)} of {timeline.steps} (t = {kept.t}).",
            )
            continue
        picture = view.endings_image(source.final, timeline.final, "first run: " + source.describe(), "branch")
        yield session, picture, f"Left: {source.describe()}. Right: {timeline.describe()}."


def export_gif(session):
    if session is None or session.timeline is None or not session.timeline.done:
        raise gr.Error("Run the sampler to the end first.")
    timeline = session.timeline
    stride = max(1, len(timeline.kept) // GIF_FRAMES)
    pictures = [view.lanes_image(k, scale=2) for k in timeline.kept[::stride]]
    caption = (
        f"{images.info(timeline.dataset).title} DDPM: {timeline.describe()}; lanes: x_t, predicted x0, predicted noise"
    )
    path = export_path(f"diffusion-{timeline.sampler}-{timeline.steps}steps-seed{timeline.seed}.gif")
    path.write_bytes(gif_of_pictures(pictures, caption))
    return str(path)


# --- the live 2-D model ---


def train_2d(session, dataset, schedule, iterations, seed):
    session = session or DiffusionSession()
    try:
        config = Diffusion2DConfig(dataset=dataset, schedule=schedule, seed=seeding.check_seed(seed)).check()
        iterations = whole_number(iterations, "number of iterations")
        if dataset == "drawn":
            raise ValueError("Draw-your-own data lives on the GAN tab; pick a built-in data set here.")
    except (TypeError, ValueError) as err:
        raise _error(err) from None
    session.stop.clear()
    yield session, gr.update(), "Starting…"
    model = session.model2d
    if model is None or model.config != config:
        model = session.model2d = Diffusion2D(config)
        session.kept2d, session.final2d = [], None
    ticket = LIVE_TRAINING.join()
    try:
        for position in ticket.wait(session.stop):
            yield session, gr.update(), waiting_message(position, LIVE_TRAINING.capacity)
        if not ticket.admitted:
            yield session, gr.update(), "Stopped before training began: you left the line."
            return
        status = f"Iteration {model.iteration:,}: stopped before any training."
        # a small MLP: one thread is faster
        for entry in single_threaded(model.train(iterations, stop=session.stop, every=max(50, iterations // 40))):
            status = f"Iteration {entry['iteration']:,}: loss {entry['loss']:.3f} ({entry['seconds']:.1f} s this run)."
            yield session, toy_views.loss_figure(model.history, "noise-prediction MSE"), status
        yield session, toy_views.loss_figure(model.history, "noise-prediction MSE"), status + " Now press Sample."
    except ValueError as err:
        raise _error(err) from None
    finally:
        ticket.leave()


def stop_2d(session) -> None:
    if session is not None:
        session.stop.set()


def sample_2d(session, sampler, steps, eta, seed, show_field):
    if session is None or session.model2d is None or not session.model2d.history:
        raise gr.Error("Train the 2-D model first (a few seconds).")
    model = session.model2d
    try:
        with single_cpu_thread():
            session.kept2d, session.final2d = model.sample(500, sampler, steps, seeding.check_seed(seed), float(eta))
    except (TypeError, ValueError) as err:
        raise _error(err) from None
    figure, status = _particles(session, len(session.kept2d), show_field)
    quality = model.quality(session.final2d)
    coverage = "" if quality.coverage is None else f", modes covered {quality.coverage:.0%}"
    status += f" MMD to the data {quality.mmd:.4f}{coverage}."
    return session, figure, gr.update(maximum=len(session.kept2d), value=len(session.kept2d)), status


def _particles(session: DiffusionSession, index: int, show_field: bool):
    kept, model = session.kept2d, session.model2d
    index = min(max(int(index), 0), len(kept))
    t = kept[index].t if index < len(kept) else 0
    field = (*model.score_field(t), "score (towards the data)") if show_field else None
    positions = [k.x_t for k in kept] + [session.final2d]
    figure = toy_views.particles_figure(model.data.points, positions, index, field)
    where = f"step {index} of {len(kept)}, entering t = {t}" if index < len(kept) else f"the end of {len(kept)} steps"
    return figure, f"Particles at {where}."


def scrub_2d(session, index, show_field):
    if session is None or session.model2d is None or not session.kept2d:
        return gr.update(), "Train, then Sample, to get particles to scrub."
    return _particles(session, whole_number(index, "step"), show_field)  # 0: pure noise ... len(kept): where they ended
