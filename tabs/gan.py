"""GAN tab: a generator and a discriminator trained live on 2-D points, drawn the way GAN Lab draws them.

Layout and wiring only; training and frames come from core.gan2d, figures from tabs.gan_view.
Each browser session owns its GAN (gr.State); Play streams frames (about 10 a second) from a
generator handler that trains between frames; Pause sets the session's stop event, which the
loop checks before every step. A run stops by itself after MAX_RUN_SECONDS.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import asdict, dataclass, field

import gradio as gr
import numpy as np

from core import live_slots, seeding, toy2d
from core.device import single_cpu_thread
from core.gan2d import GAN2D, LOSSES, NOISES, OPTIMIZERS, PRESETS, GANConfig
from core.live_slots import LIVE_TRAINING, waiting_message
from tabs import gan_images
from tabs import gan_view as view
from tabs.exports import export_path
from tabs.image_views import png_bytes, stamped

TITLE = "GAN"
TAB_ID = "gan"
MAX_RUN_SECONDS = 600.0
FRAME_SECONDS = 0.1  # a frame every 0.1 s while playing
METRIC_SECONDS = 1.0  # MMD / coverage at most once a second (they cost ~20 ms)
SLOW_MOTION_SECONDS = 0.4  # one step per frame, this long apart

INTRO = """\
### GAN: two networks in a game
The **generator** (red points) turns random noise into points; the **discriminator** (background: blue = "looks real",
orange = "looks fake") tries to tell them from the real data (blue points). Thin purple lines show how the generator
bends a grid of noise; short dark lines show where its next update pushes each red point: up the discriminator's
slope towards "real". Press **Play** and watch them fight.
"""


@dataclass
class GANSession:
    """One browser session's GAN, its settings, and the event Pause sets."""

    gan: GAN2D | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    drawing_key: str | None = None  # fingerprint of the sketch the GAN's data came from


def _close(session: GANSession | None) -> None:  # gr.State's delete_callback: the user left
    if session is not None:
        session.stop.set()
        session.gan = None


# The tab's settings inputs, in the order every handler takes them (after layers, etc.).
SETTING_FIELDS = (
    "dataset",
    "loss",
    "optimizer",
    "lr_g",
    "lr_d",
    "d_steps",
    "noise_dim",
    "noise",
    "hidden",
    "depth",
    "batch_size",
    "seed",
    "gp_weight",
)


def setting_values(config: GANConfig) -> list:
    """A config as the values of the tab's settings inputs (presets, API callers, the benchmark)."""
    return [getattr(config, name) for name in SETTING_FIELDS]


STRUCTURE = ("dataset", "noise_dim", "hidden", "depth", "seed", "noise", "optimizer", "loss")


def _config(
    dataset, loss, optimizer, lr_g, lr_d, d_steps, noise_dim, noise, hidden, depth, batch_size, seed, gp_weight
):
    try:
        config = GANConfig(
            dataset=dataset,
            loss=loss,
            optimizer=optimizer,
            lr_g=float(lr_g),
            lr_d=float(lr_d),
            d_steps=int(d_steps),
            noise_dim=int(noise_dim),
            noise=noise,
            hidden=int(hidden),
            depth=int(depth),
            batch_size=int(batch_size),
            seed=seeding.check_seed(seed),
            gp_weight=float(gp_weight),
        )
        return config.check()
    except (TypeError, ValueError, OverflowError) as err:
        raise gr.Error(str(err)) from None


def _sketch(drawing):
    """The sketch pad's picture (or None) and a fingerprint to notice when it changed."""
    picture = drawing.get("composite") if isinstance(drawing, dict) else drawing
    if picture is None:
        return None, None
    array = np.ascontiguousarray(picture)
    return array, hashlib.sha1(array.tobytes()).hexdigest()


def _ready(session: GANSession | None, config: GANConfig, drawing) -> tuple[GANSession, str]:
    """The session's GAN for these settings: kept when only rates/steps/batch changed, else rebuilt."""
    session = session or GANSession()
    gan = session.gan
    picture, key = _sketch(drawing) if config.dataset == "drawn" else (None, None)
    same_structure = gan is not None and all(getattr(gan.config, k) == getattr(config, k) for k in STRUCTURE)
    if same_structure and key == session.drawing_key:
        changed = [k for k, v in asdict(config).items() if getattr(gan.config, k) != v]
        gan.config = config
        for group in gan.opt_g.param_groups:
            group["lr"] = config.lr_g
        for group in gan.opt_d.param_groups:
            group["lr"] = config.lr_d
        return session, (f"Continuing with new {', '.join(changed)}." if changed else "")
    try:
        session.gan = GAN2D(config, drawing=picture)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    session.drawing_key = key
    return session, "Started a fresh GAN."


def _views(gan: GAN2D, layers: list[str], note: str = "", curves: bool = True):
    """Field image, curves (or no change when `curves` is False) and the status line."""
    frame = gan.frame()
    status = view.status_line(gan, note)
    return (
        view.field_image(frame, set(layers)),
        view.curves_figure(frame.history) if curves else gr.update(),
        status,
    )


def play(session, layers, slow, drawing, *settings):
    """Train and stream frames until Pause, the time limit, or the user leaving."""
    config = _config(*settings)
    session, note = _ready(session, config, drawing)
    gan = session.gan
    session.stop.clear()
    ticket = LIVE_TRAINING.join()
    try:
        for position in ticket.wait(session.stop):
            yield session, *_views(gan, layers, waiting_message(position, LIVE_TRAINING.capacity))
        if not ticket.admitted:
            yield session, *_views(gan, layers, "Paused before training began: you left the line.")
            return
        yield session, *_views(gan, layers, note or "Playing…")
        yield from _train(session, gan, layers, slow)
    finally:
        ticket.leave()  # also when the browser goes away mid-run (Gradio closes the generator)


def _train(session: GANSession, gan: GAN2D, layers, slow):
    started = last_metric = next_frame = time.perf_counter()
    while not session.stop.is_set():
        now = time.perf_counter()
        next_frame += FRAME_SECONDS  # a steady cadence: drawing a frame eats into the next slice
        if now - started > MAX_RUN_SECONDS:
            yield session, *_views(gan, layers, "Paused: a run stops by itself after 10 minutes (press Play to go on).")
            return
        if slow:
            with single_cpu_thread():
                gan.train_step(record_every=1)
            time.sleep(SLOW_MOTION_SECONDS)
        else:
            next_frame = max(next_frame, now + 0.02)  # after a stall, train a little before drawing
            with single_cpu_thread():  # tiny networks: one thread is faster, and robust to a busy core
                while time.perf_counter() < next_frame and not session.stop.is_set():
                    gan.train_step()
        measured = time.perf_counter() - last_metric > METRIC_SECONDS
        with single_cpu_thread():
            if measured:  # metrics and the curves once a second; the picture every frame
                gan.measure()
                last_metric = time.perf_counter()
            views = _views(gan, layers, curves=measured)
        yield session, *views
    if session.gan is gan:  # else Reset replaced this GAN while it trained: its last frame would undo the Reset
        yield session, *_views(gan, layers, "Paused.")


def pause(session: GANSession | None) -> None:
    if session is not None:
        session.stop.set()


def single_step(session, layers, which, drawing, *settings):
    """One update ("both": d_steps of D then one of G; or one of either network), then a frame."""
    config = _config(*settings)
    session, note = _ready(session, config, drawing)
    session.stop.set()  # a step while playing pauses the run first
    updates = {"Both": "both", "G only": "g", "D only": "d"}
    if which not in updates:
        raise gr.Error(f"Step which network? Choose one of {', '.join(updates)}.")
    session.gan.train_step(updates[which], record_every=1)
    session.gan.measure()
    return session, *_views(session.gan, layers, note)


def reset(session, layers, drawing, *settings):
    if session is not None:
        session.stop.set()
        session.gan = None
    config = _config(*settings)
    session, _ = _ready(None, config, drawing)
    session.gan.measure()
    return session, *_views(session.gan, layers, "Reset: fresh networks from the seed.")


def open_tab(session, layers, drawing, *settings):
    """First visit: a fresh GAN at step 0; coming back: the session's GAN as it was."""
    if session is not None and session.gan is not None:
        return session, *_views(session.gan, layers)
    return reset(session, layers, drawing, *settings)


def export_png(session, layers):
    """The picture on screen as a PNG, stamped with the settings, the step and the latest losses."""
    if session is None or session.gan is None:
        raise gr.Error("There is no GAN yet: open the tab or press Play, then export.")
    gan = session.gan
    shown = {name for name in layers if isinstance(name, str)} if isinstance(layers, list) else set()
    caption = f"{view.describe(gan.config)}\n{view.status_line(gan)}"
    path = export_path(f"gan-{gan.config.dataset}-{gan.config.loss}-step{gan.step}-seed{gan.config.seed}.png")
    path.write_bytes(png_bytes(stamped(view.field_image(gan.frame(), shown), caption)))
    return str(path)


def apply_preset(name: str):
    if name is None:  # the dropdown cleared: nothing to apply
        return (*(gr.update() for _ in setting_values(GANConfig())), gr.update())
    if name not in PRESETS:
        raise gr.Error(f"Unknown preset; choose one of {', '.join(PRESETS)}.")
    settings, caption = PRESETS[name]
    return (*setting_values(GANConfig(**settings)), f"**{name}.** {caption}")


def render(demo: gr.Blocks, tab: gr.Tab) -> dict:
    with gr.Tabs(elem_id="gan-kind"):
        with gr.Tab("2-D points", id="gan-points"):
            points = _render_points(tab)
        with gr.Tab("Images (DCGAN)", id="gan-images", elem_id="gan-images-tab") as images_tab:
            images = gan_images.render(images_tab)
    return {**points, **images}  # the controls a link may set (tabs.links)


def _render_points(tab: gr.Tab) -> dict:
    """The 2-D GAN's controls and pictures; `tab` is the GAN tab (selecting it draws the session's GAN)."""
    gr.Markdown(INTRO)
    defaults = GANConfig()
    with gr.Row():
        preset = gr.Dropdown(list(PRESETS), value=None, label="Preset", scale=1, elem_id="gan-preset")
        preset_caption = gr.Markdown(elem_id="gan-preset-caption")
    with gr.Row():
        dataset = gr.Dropdown(
            [(title, key) for key, title in toy2d.DISTRIBUTIONS.items()],
            value=defaults.dataset,
            label="Data",
            elem_id="gan-dataset",
        )
        loss = gr.Dropdown([(t, k) for k, t in LOSSES.items()], value=defaults.loss, label="Loss", elem_id="gan-loss")
        optimizer = gr.Dropdown(list(OPTIMIZERS), value=defaults.optimizer, label="Optimizer", elem_id="gan-opt")
        lr_g = gr.Number(defaults.lr_g, label="G learning rate", elem_id="gan-lr-g")
        lr_d = gr.Number(defaults.lr_d, label="D learning rate", elem_id="gan-lr-d")
        d_steps = gr.Slider(1, 10, value=defaults.d_steps, step=1, label="D steps per G step", elem_id="gan-d-steps")
    with gr.Accordion("Networks, noise, batch, seed", open=False, elem_classes=["pg-advanced"]):
        with gr.Row():
            noise_dim = gr.Slider(1, 16, value=defaults.noise_dim, step=1, label="Noise dimension", elem_id="gan-zdim")
            noise = gr.Radio(list(NOISES), value=defaults.noise, label="Noise", elem_id="gan-noise")
            hidden = gr.Slider(8, 256, value=defaults.hidden, step=8, label="Hidden width", elem_id="gan-hidden")
            depth = gr.Slider(1, 4, value=defaults.depth, step=1, label="Hidden layers", elem_id="gan-depth")
            batch_size = gr.Slider(16, 512, value=defaults.batch_size, step=16, label="Batch", elem_id="gan-batch")
            seed = gr.Number(defaults.seed, label="Seed", precision=0, elem_id="gan-seed")
            gp_weight = gr.Number(defaults.gp_weight, label="Gradient penalty λ (WGAN-GP)", elem_id="gan-gp")
        drawing = gr.Sketchpad(
            label="Your own data (pick 'Draw your own')",
            canvas_size=(300, 300),
            height=340,
            brush=gr.Brush(default_size=10, colors=["#000000"], color_mode="fixed"),
            elem_id="gan-drawing",
        )
    with gr.Row():
        play_btn = gr.Button("Play", variant="primary", elem_id="gan-play")
        pause_btn = gr.Button("Pause", elem_id="gan-pause")
        which = gr.Radio(["Both", "G only", "D only"], value="Both", label="One step of", elem_id="gan-which")
        step_btn = gr.Button("Step", elem_id="gan-step")
        reset_btn = gr.Button("Reset", variant="stop", elem_id="gan-reset")
        slow = gr.Checkbox(False, label="Slow motion (one step per frame)", elem_id="gan-slow")
    layers = gr.CheckboxGroup(
        [
            ("decision surface", "surface"),
            ("G's noise grid", "manifold"),
            ("real", "real"),
            ("generated", "fake"),
            ("G's push", "arrows"),
        ],
        value=["surface", "manifold", "real", "fake", "arrows"],
        label="Show",
        elem_id="gan-layers",
    )
    status = gr.Markdown(elem_id="gan-status")
    with gr.Row():
        field_plot = gr.Image(
            label="red: generated · blue: real · background: D's verdict · lines: G's push",
            format="png",
            height=500,
            elem_id="gan-field",
            scale=3,
        )
        curves_plot = gr.Plot(elem_id="gan-curves", scale=2)
    with gr.Row():
        export_btn = gr.Button("Export PNG", size="sm", scale=0, elem_id="gan-export")
        export_file = gr.File(label="Picture on screen, stamped with its settings", scale=3, elem_id="gan-export-file")
    session = gr.State(None, time_to_live=3600, delete_callback=_close)

    settings = [
        dataset,
        loss,
        optimizer,
        lr_g,
        lr_d,
        d_steps,
        noise_dim,
        noise,
        hidden,
        depth,
        batch_size,
        seed,
        gp_weight,
    ]
    views = [session, field_plot, curves_plot, status]
    preset.change(apply_preset, preset, [*settings, preset_caption], api_name="gan_preset").then(
        reset, [session, layers, drawing, *settings], views, api_visibility="private"
    )
    play_btn.click(
        play,
        [session, layers, slow, drawing, *settings],
        views,
        api_name="gan_play",
        concurrency_limit=live_slots.HANDLERS,
        concurrency_id="live-training",
    )
    pause_btn.click(pause, session, None, api_name="gan_pause", concurrency_limit=None)
    step_btn.click(single_step, [session, layers, which, drawing, *settings], views, api_name="gan_step")
    reset_btn.click(reset, [session, layers, drawing, *settings], views, api_name="gan_reset")
    export_btn.click(export_png, [session, layers], export_file, api_name="gan_export")
    tab.select(open_tab, [session, layers, drawing, *settings], views, api_visibility="private")
    layers.input(open_tab, [session, layers, drawing, *settings], views, api_visibility="private")
    return {
        "preset": preset,
        "data": dataset,
        "loss": loss,
        "optimizer": optimizer,
        "lr_g": lr_g,
        "lr_d": lr_d,
        "d_steps": d_steps,
        "noise_dim": noise_dim,
        "noise": noise,
        "hidden": hidden,
        "depth": depth,
        "batch": batch_size,
        "seed": seed,
        "gp": gp_weight,
        "slow": slow,
    }


CSS = ""
