"""GAN tab, images: a small DCGAN on MNIST or Fashion-MNIST, scrubbed through a shipped run or trained live.

Layout, wiring and handlers; the networks and their training are core.dcgan's, the figures
tabs.gan_view's. The shipped run (scripts/train_dcgan.py) lets a user on a slow CPU see a whole
training in a slider; the live run trains a fresh DCGAN in the user's session, streaming its
fixed-noise grid about twice a second and its scores every few seconds, and waits in the
server's live-training line (core.live_slots) when that is full.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import gradio as gr

from core import dcgan, images, live_slots, seeding
from core.evaluator import fd_floor
from core.gan2d import LOSSES
from core.live_slots import LIVE_TRAINING, waiting_message
from tabs import gan_view as view
from tabs.exports import export_path
from tabs.image_views import png_bytes, stamped, tile

MAX_RUN_SECONDS = 600.0
FRAME_SECONDS = 0.5  # the sample grid is redrawn this often while training
MEASURE_SECONDS = 5.0  # FD-classifier and class histogram (~0.4 s each on a 2-core CPU) at most this often
GRID_SCALE = 3  # screen pixels per image pixel in the 8 x 8 grid

INTRO = """\
### The same game on images: a DCGAN
A convolutional generator turns 64 random numbers into a 28×28 picture; a convolutional discriminator judges pictures.
The grid shows 64 samples from **fixed noise**, so you see the *same* 64 draws change as the generator learns.
Numbers below come from this project's classifier: **FD-classifier** (like FID: lower is closer to real images) and the
share of samples it assigns to each class (a collapsed GAN draws only a few classes).
"""


@dataclass
class ImageGANSession:
    """One browser session's live DCGAN and the event its Pause button sets."""

    gan: dcgan.DCGAN | None = None
    stop: threading.Event = field(default_factory=threading.Event)


def close_session(session: ImageGANSession | None) -> None:  # gr.State's delete_callback: the user left
    if session is not None:
        session.stop.set()
        session.gan = None


def _error(err: Exception) -> gr.Error:
    return gr.Error(str(err))


# --- the shipped run ---


def _snapshot(dataset: str, index, seed):
    """The shipped series, the snapshot's step, the checked seed, and the 8 x 8 grid at that step."""
    try:
        series = dcgan.shipped_series(dataset)
        seed = seeding.check_seed(seed)
        index = int(index)
    except (TypeError, ValueError, OverflowError) as err:
        raise _error(err) from None
    step = series.steps[min(max(index, 0), len(series.steps) - 1)]
    noise = dcgan.noise_for(seed, dcgan.GRID_SIDE**2, series.config.noise_dim)
    return series, step, seed, tile(series.images(step, noise), columns=dcgan.GRID_SIDE, scale=GRID_SCALE)


def show_snapshot(dataset: str, index, seed):
    """The shipped generator at one step of its training: the 8 x 8 grid, the scores and where it stands."""
    series, step, seed, grid = _snapshot(dataset, index, seed)
    steps = series.steps
    score = series.scores[step]
    floor = series.card["metrics"]["fd_floor"]
    status = (
        f"**Step {step:,}** of {steps[-1]:,} (snapshot {steps.index(step) + 1} of {len(steps)}, taken at steps "
        f"{', '.join(f'{s:,}' for s in steps)}). "
        f"FD-classifier {score['fd_classifier']:.1f} (real images: {floor:.1f}); "
        f"{score['class_coverage']:.0%} of classes drawn (scored on 1,000 samples by the card)."
    )
    figure = view.snapshot_figure(series.scores, step, floor, images.info(dataset).class_names)
    return grid, figure, status


def export_snapshot(dataset: str, index, seed):
    """The shipped run's grid at one snapshot as a PNG, stamped with the data set, step, seed and scores."""
    series, step, seed, grid = _snapshot(dataset, index, seed)
    score = series.scores[step]
    caption = (
        f"DCGAN shipped with the playground on {images.info(dataset).title}, {series.config.loss} loss: "
        f"step {step:,} of {series.steps[-1]:,}, 64 samples from noise seed {seed}\n"
        f"FD-classifier {score['fd_classifier']:.1f} (real images {series.card['metrics']['fd_floor']:.1f}), "
        f"{score['class_coverage']:.0%} of classes drawn"
    )
    path = export_path(f"dcgan-{dataset}-step{step}-seed{seed}.png")
    path.write_bytes(png_bytes(stamped(grid, caption)))
    return str(path)


# --- the live run ---


def _config(dataset, loss, lr, seed) -> dcgan.DCGANConfig:
    try:
        lr = float(lr)
        return dcgan.DCGANConfig(dataset=dataset, loss=loss, lr_g=lr, lr_d=lr, seed=seeding.check_seed(seed)).check()
    except (TypeError, ValueError, OverflowError) as err:
        raise _error(err) from None


def _ready(session: ImageGANSession | None, config: dcgan.DCGANConfig) -> tuple[ImageGANSession, str]:
    """The session's DCGAN: kept when only the learning rate changed, else a fresh one from the seed."""
    session = session or ImageGANSession()
    gan = session.gan
    if gan is not None and (gan.config.dataset, gan.config.loss, gan.config.seed) == (
        config.dataset,
        config.loss,
        config.seed,
    ):
        if gan.config.lr_g != config.lr_g:
            for optimizer in (gan.opt_g, gan.opt_d):
                for group in optimizer.param_groups:
                    group["lr"] = config.lr_g
            gan.config = config
            return session, f"Continuing with learning rate {config.lr_g:g}."
        return session, ""
    session.gan = dcgan.DCGAN(config)
    return session, "Started a fresh DCGAN from the seed."


def _live_views(gan: dcgan.DCGAN, note: str, curves: bool = True):
    last = gan.history[-1] if gan.history else {}
    measured = [h for h in gan.history if "fd" in h]
    status = f"Step {gan.step:,}."
    if "d_loss" in last:
        status += f" D loss {last['d_loss']:.3f}, G loss {last['g_loss']:.3f}."
    if measured:
        status += f" FD-classifier {measured[-1]['fd']:.1f} at step {measured[-1]['step']:,}."
    figure = (
        view.image_gan_figure(gan.history, fd_floor(gan.config.dataset), images.info(gan.config.dataset).class_names)
        if curves
        else gr.update()
    )
    return tile(gan.grid(), columns=dcgan.GRID_SIDE, scale=GRID_SCALE), figure, f"{status} {note}".strip()


def export_live(session: ImageGANSession | None):
    """The live run's grid as a PNG, stamped with its settings, step and latest scores."""
    if session is None or session.gan is None:
        raise gr.Error("Press Play or Reset first: there is no live DCGAN to export yet.")
    gan = session.gan
    grid, _, status = _live_views(gan, "", curves=False)
    config = gan.config
    caption = (
        f"DCGAN trained live on {images.info(config.dataset).title}, {config.loss} loss, learning rate "
        f"{config.lr_g:g}, batch {config.batch_size}, seed {config.seed}; 64 samples from fixed noise\n{status}"
    )
    path = export_path(f"dcgan-live-{config.dataset}-step{gan.step}-seed{config.seed}.png")
    path.write_bytes(png_bytes(stamped(grid, caption)))
    return str(path)


def play_live(session, dataset, loss, lr, seed):
    """Train the session's DCGAN, streaming the grid and the scores, until Pause, the time limit or leaving."""
    config = _config(dataset, loss, lr, seed)
    session = session or ImageGANSession()
    session.stop.clear()
    # hand the session to the browser before anything slow (building the GAN, a first optimizer
    # step imports torch._dynamo), so a Pause pressed at once finds it
    yield session, gr.update(), gr.update(), "Starting…"
    session, note = _ready(session, config)
    gan = session.gan
    ticket = LIVE_TRAINING.join()
    try:
        for position in ticket.wait(session.stop):
            yield session, gr.update(), gr.update(), waiting_message(position, LIVE_TRAINING.capacity)
        if not ticket.admitted:
            yield session, *_live_views(gan, "Paused before training began: you left the line.")
            return
        if not any("fd" in h for h in gan.history):
            gan.measure()  # the untrained generator's score: where the curve starts
        yield session, *_live_views(gan, note or "Training…")
        started = last_measure = time.perf_counter()
        while not session.stop.is_set():
            if time.perf_counter() - started > MAX_RUN_SECONDS:
                yield (
                    session,
                    *_live_views(gan, "Paused: a run stops by itself after 10 minutes (press Play to go on)."),
                )
                return
            frame_due = time.perf_counter() + FRAME_SECONDS
            while time.perf_counter() < frame_due and not session.stop.is_set():
                gan.train_step()
            measure = time.perf_counter() - last_measure > MEASURE_SECONDS
            if measure:
                gan.measure()
                last_measure = time.perf_counter()
            yield session, *_live_views(gan, "Training…", curves=measure)
        if session.gan is not gan:  # Reset replaced this GAN while it trained: its last frame would undo the Reset
            return
        gan.measure()
        yield session, *_live_views(gan, "Paused.")
    finally:
        ticket.leave()


def pause_live(session: ImageGANSession | None) -> None:
    if session is not None:
        session.stop.set()


def reset_live(session, dataset, loss, lr, seed):
    if session is not None:
        session.stop.set()
        session.gan = None
    config = _config(dataset, loss, lr, seed)
    session, _ = _ready(None, config)
    session.gan.measure()
    return session, *_live_views(session.gan, "Reset: fresh networks from the seed (step 0).")


def render(tab: gr.Tab) -> dict:
    """The sub-tab's content; `tab` is the sub-tab (its selection draws the shipped run)."""
    gr.Markdown(INTRO)
    data_choices = [(info.title, key) for key, info in images.DATASETS.items()]
    with gr.Row(), gr.Column(scale=3):
        gr.Markdown("#### Scrub through a shipped training run")
        with gr.Row():
            shipped_data = gr.Radio(data_choices, value="mnist", label="Data", elem_id="dcgan-shipped-data")
            shipped_seed = gr.Number(0, label="Noise seed", precision=0, elem_id="dcgan-shipped-seed")
        last = len(dcgan.SNAPSHOT_STEPS) - 1
        snapshot = gr.Slider(0, last, value=last, step=1, label="Snapshot (0: untrained)", elem_id="dcgan-snapshot")
        shipped_status = gr.Markdown(elem_id="dcgan-shipped-status")
        with gr.Row():
            shipped_grid = gr.Image(label="64 samples from fixed noise", height=420, elem_id="dcgan-shipped-grid")
            shipped_plot = gr.Plot(elem_id="dcgan-shipped-plot")
        with gr.Row():
            shipped_export = gr.Button("Export PNG", size="sm", scale=0, elem_id="dcgan-shipped-export")
            shipped_file = gr.File(label="Snapshot, stamped", scale=3, elem_id="dcgan-shipped-file")
    gr.Markdown("#### Train one yourself, live")
    with gr.Row():
        live_data = gr.Radio(data_choices, value="mnist", label="Data", elem_id="dcgan-data")
        live_loss = gr.Dropdown(
            [(LOSSES[name], name) for name in dcgan.IMAGE_LOSSES],
            value="non-saturating",
            label="Loss",
            elem_id="dcgan-loss",
        )
        live_lr = gr.Number(2e-4, label="Learning rate (G and D)", elem_id="dcgan-lr")
        live_seed = gr.Number(0, label="Seed", precision=0, elem_id="dcgan-seed")
    with gr.Row():
        live_play = gr.Button("Play", variant="primary", elem_id="dcgan-play")
        live_pause = gr.Button("Pause", elem_id="dcgan-pause")
        live_reset = gr.Button("Reset", variant="stop", elem_id="dcgan-reset")
    live_status = gr.Markdown(elem_id="dcgan-status")
    with gr.Row():
        live_grid = gr.Image(label="Fixed-noise samples, live", height=420, elem_id="dcgan-grid", scale=2)
        live_plot = gr.Plot(elem_id="dcgan-plot", scale=3)
    with gr.Row():
        live_export = gr.Button("Export PNG", size="sm", scale=0, elem_id="dcgan-export")
        live_file = gr.File(label="Live samples, stamped", scale=3, elem_id="dcgan-export-file")
    live_session = gr.State(None, time_to_live=3600, delete_callback=close_session)

    shipped_inputs = [shipped_data, snapshot, shipped_seed]
    shipped_outputs = [shipped_grid, shipped_plot, shipped_status]
    shipped_data.change(show_snapshot, shipped_inputs, shipped_outputs, api_visibility="private")
    snapshot.change(show_snapshot, shipped_inputs, shipped_outputs, api_name="dcgan_snapshot")
    shipped_seed.submit(show_snapshot, shipped_inputs, shipped_outputs, api_visibility="private")
    tab.select(show_snapshot, shipped_inputs, shipped_outputs, api_visibility="private")
    shipped_export.click(export_snapshot, shipped_inputs, shipped_file, api_name="dcgan_snapshot_export")

    live_inputs = [live_session, live_data, live_loss, live_lr, live_seed]
    live_outputs = [live_session, live_grid, live_plot, live_status]
    live_play.click(
        play_live,
        live_inputs,
        live_outputs,
        api_name="dcgan_play",
        concurrency_limit=live_slots.HANDLERS,
        concurrency_id="live-training",
    )
    live_pause.click(pause_live, live_session, None, api_name="dcgan_pause", concurrency_limit=None)
    live_reset.click(reset_live, live_inputs, live_outputs, api_name="dcgan_reset")
    live_export.click(export_live, live_session, live_file, api_name="dcgan_export")
    return {
        "dcgan_data": shipped_data,
        "dcgan_seed": shipped_seed,
        "snapshot": snapshot,
        "live_data": live_data,
        "live_loss": live_loss,
        "live_lr": live_lr,
        "live_seed": live_seed,
    }
