"""VAE tab: a latent space to hover, walk, interpolate, project, take apart and train live.

Layout and wiring only; the numbers come from core.vae / core.vae_models / core.vae_live and the
pictures from tabs.vae_view. Hovering the latent map is the one piece of browser code (JS
below): it turns the mouse position into latent coordinates and hands them to a hidden textbox,
whose change event decodes them on the server (~3 ms of model time).
"""

from __future__ import annotations

import threading
import time

import gradio as gr
import torch

from core import images, seeding
from core import vae_models as vm
from core.vae import kl_divergence, reconstruction_nll
from core.vae_live import MAX_EPOCHS, LiveVAE
from tabs import vae_view as view
from tabs.exports import export_path
from tabs.pictures import PictureEditor

TITLE = "VAE"
TAB_ID = "vae"
SLIDERS = 16  # one per latent dimension of the largest shipped model
SLIDER_RANGE = 4.0
DEFAULT_MODEL = "vae-2d-mnist"

INTRO = """\
### Variational autoencoder: a map you can walk
The encoder turns an image into a small Gaussian cloud **q(z | x)** (mean μ, spread σ) in a latent space; the decoder
turns any point **z** back into an image. Training minimises **reconstruction + β·KL**: the reconstruction term
(nats) says how well the image comes back, the KL term how far the cloud strays from the prior N(0, I).
Bigger β: smoother, more Gaussian map, blurrier images. The ELBO shown is −(reconstruction + KL) with β = 1.
"""


def _vae(key: str) -> vm.ShippedVAE:
    try:
        return vm.load(key)
    except ValueError as err:
        raise gr.Error(str(err)) from None


def _model_choices() -> list[tuple[str, str]]:
    return [(title, key) for key, title in vm.models().items()]


def _card_markdown(vae: vm.ShippedVAE) -> str:
    m = vae.card["metrics"]
    return (
        f"**{vae.title}** (β = {vae.beta:g}, {vae.card.get('parameters', 0):,} parameters). On the full test set: "
        f"ELBO **{m['test_elbo']:.1f}** nats per image = −(reconstruction {m['test_reconstruction']:.1f} + "
        f"KL {m['test_kl']:.1f}). Images decoded from prior samples: FD-classifier **{m['sample_fd_classifier']:.1f}** "
        f"(real test images vs training images: {m['fd_floor']:.1f}; lower is better). "
        f"Trained {vae.card['steps']:,} steps in {vae.card['wall_time_s'] / 60:.0f} min on {vae.card['device']}."
    )


def _map_points(vae: vm.ShippedVAE) -> tuple[torch.Tensor, torch.Tensor, tuple[str, str]]:
    """What the latent map draws: the means themselves (2-D) or their UMAP picture (16-D)."""
    if vae.latent_dim == 2:
        return vae.test_latents, vae.test_labels, ("z₁", "z₂")
    return vae.umap_embedding, vae.test_labels[vae.umap_index], ("UMAP 1", "UMAP 2")


def _map_figure(vae: vm.ShippedVAE, marker=None, paths=None, marker_label="current point", title: str | None = None):
    points, labels, axes = _map_points(vae)
    if title is None:
        title = (
            "Test-set latent means (hover or click anywhere to decode)"
            if vae.latent_dim == 2
            else "UMAP of 16-D test latent means (hover a point to decode its latent)"
        )
    return view.latent_map(
        points,
        labels,
        vae.class_names,
        title,
        axes,
        marker=marker,
        paths=paths,
        marker_label=marker_label,
        extent=4.0 if vae.latent_dim == 2 else None,
    )


# --- 1. latent map ---


def show_model(key: str):
    vae = _vae(key)
    if vae.latent_dim > 2:
        vm.warm_umap(vae)  # in the background: the sliders view will want exact UMAP places
    dims = [(f"z{i + 1}", i) for i in range(vae.latent_dim)]
    return (
        _card_markdown(vae),
        _map_figure(vae),
        gr.update(choices=dims, value=0),
        gr.update(choices=dims, value=1),
    )


def _parse_point(point: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in str(point).split(","))
    except ValueError:
        raise gr.Error("A map point is two numbers separated by a comma, e.g. 0.5,-1.2.") from None
    return x, y


def decode_point(key: str, point: str):
    """Decode the map point "x,y": a latent (2-D models) or the nearest test point's latent (UMAP maps)."""
    vae = _vae(key)
    if not point:
        return gr.update(), ""
    x, y = _parse_point(point)
    if vae.latent_dim == 2:
        z = torch.tensor([x, y])
        where = f"z = ({x:.2f}, {y:.2f})"
    else:
        nearest = int(torch.cdist(torch.tensor([[x, y]]), vae.umap_embedding)[0].argmin())
        row = int(vae.umap_index[nearest])
        z = vae.test_latents[row]
        where = f"test image #{row} ({vae.class_names[int(vae.test_labels[row])]}), its 16-D latent mean"
    try:
        image = vm.decode(vae, z)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    return view.enlarge(image), where


def decode_latent(key: str, z1: float, z2: float):
    """Decode the latent (z1, z2) of a 2-D model (API and keyboard entry)."""
    vae = _vae(key)
    if vae.latent_dim != 2:
        raise gr.Error("Typed coordinates decode a 2-D model; use the sliders for a 16-D one.")
    return decode_point(key, f"{z1},{z2}")


# --- beta trade-off: the three MNIST 2-D models side by side ---

BETA_MODELS = ("vae-2d-beta0.5-mnist", "vae-2d-mnist", "vae-2d-beta4-mnist")


def beta_tradeoff():
    rows = [
        "| β | reconstruction (nats) | KL (nats) | ELBO | FD-classifier of prior samples |",
        "| --- | --- | --- | --- | --- |",
    ]
    figures = []
    for key in BETA_MODELS:
        vae = _vae(key)
        m = vae.card["metrics"]
        rows.append(
            f"| {vae.beta:g} | {m['test_reconstruction']:.1f} | {m['test_kl']:.1f} | {m['test_elbo']:.1f} | "
            f"{m['sample_fd_classifier']:.1f} |"
        )
        figures.append(
            view.latent_map(
                vae.test_latents, vae.test_labels, vae.class_names, f"β = {vae.beta:g}", extent=4.0, legend=False
            )
        )
    summary = (
        "Same architecture, data and steps; only β differs. Higher β pulls every image's cloud towards N(0, I): "
        "less KL, a rounder map with fewer gaps (so more of the plane decodes to something digit-like), but more "
        "reconstruction error. Lower β does the reverse.\n\n" + "\n".join(rows)
    )
    return (*figures, summary)


# --- 2. manifold ---


def _whole(value, default: int, what: str) -> int:
    """A whole number from a UI value (None -> default); a clear error for NaN, text and the like."""
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(f"The {what} must be a whole number.") from None


def _seed(value) -> int:
    try:
        return seeding.check_seed(value)
    except ValueError as err:
        raise gr.Error(str(err)) from None


def manifold(key: str, n: float, low: float, high: float, spacing: str, dim_x, dim_y):
    vae = _vae(key)
    if low is None or high is None or not low < high:
        raise gr.Error("The latent range needs two numbers with 'from' below 'to'.")
    n = _whole(n, 15, "grid size")
    dims = (_whole(dim_x, 0, "'across' dimension"), _whole(dim_y, 1, "'up' dimension"))
    started = time.perf_counter()
    try:
        grid, values = vm.manifold(vae, n, low, high, spacing, dims)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    seconds = time.perf_counter() - started
    title = f"{n} x {n} decoded latents, {spacing} spacing"
    note = f"Decoded {len(grid)} latents in {seconds * 1000:.0f} ms."
    if vae.latent_dim > 2:
        note += f" The other {vae.latent_dim - 2} dimensions are held at 0 (the prior's mean)."
    return view.manifold_figure(grid, values, dims, title), note


# --- pictures the user picks: a test image, a drawing or an upload ---


def _picked_image(vae: vm.ShippedVAE, source: str, index, editor) -> tuple[torch.Tensor, str]:
    if source == "test image":
        test = images.load_subset(vae.dataset, "test")
        try:
            i = int(index)
        except (TypeError, ValueError):
            raise gr.Error("The test image number must be a whole number.") from None
        if not 0 <= i < len(test):
            raise gr.Error(f"Test images are numbered 0 to {len(test) - 1}.")
        return test.images[i], f"test #{i} ({vae.class_names[int(test.labels[i])]})"
    picture = editor.get("composite") if isinstance(editor, dict) else editor
    try:
        return images.from_user_image(picture)[0], "your picture"
    except ValueError as err:
        raise gr.Error(str(err)) from None


# --- 3. interpolation ---


def interpolate(key: str, source_a, index_a, editor_a, source_b, index_b, editor_b, frames, kind: str):
    vae = _vae(key)
    x_a, name_a = _picked_image(vae, source_a, index_a, editor_a)
    x_b, name_b = _picked_image(vae, source_b, index_b, editor_b)
    kinds = ["linear", "spherical"] if kind == "both" else [kind]
    rows, paths = [], {}
    try:
        for k in kinds:
            z, decoded = vm.interpolate(vae, x_a, x_b, int(frames or 0), k)
            rows.append((f"{k}: {name_a} -> {name_b}", decoded))
            paths[k] = z
    except ValueError as err:
        raise gr.Error(str(err)) from None
    strip = view.strip_with_labels(rows)
    first = kinds[0]
    if vae.latent_dim == 2:
        drawn, note = {f"{k} path": z for k, z in paths.items()}, ""
    else:
        drawn, exact = {}, True
        for k, z in paths.items():
            places = [vm.umap_place(vae, point) for point in z]
            drawn[f"{k} path"] = torch.tensor([p.xy for p in places])
            exact = exact and all(p.exact for p in places)
        note = (
            " Paths on the UMAP picture: exact UMAP transform."
            if exact
            else " Paths on the UMAP picture: approximate (neighbour average) while UMAP warms up; run again in a moment."
        )
    where = "latent plane" if vae.latent_dim == 2 else "UMAP picture"
    figure = _map_figure(vae, paths=drawn, title=f"The path through the {where}: {name_a} -> {name_b}")
    frames_tensor = torch.cat([r[1] for r in rows], dim=3)  # both paths side by side in each GIF frame
    caption = f"VAE {vae.key}: {kind} {name_a} -> {name_b}, {int(frames)} frames"
    gif = export_path("vae-interpolation.gif")
    gif.write_bytes(view.gif_bytes(frames_tensor, caption))
    norms = ", ".join(f"{k}: |z| midpoint {paths[k][len(paths[k]) // 2].norm():.2f}" for k in kinds)
    summary = (
        f"Endpoints are the latent means of {name_a} (|z| = {paths[first][0].norm():.2f}) and {name_b} "
        f"(|z| = {paths[first][-1].norm():.2f}); {norms}. A straight line cuts through the low-norm middle of "
        f"the Gaussian, a spherical path keeps a typical norm.{note}"
    )
    return strip, figure, str(gif), summary


# --- 4. sliders ---


def encode_for_sliders(key: str, index):
    vae = _vae(key)
    x, name = _picked_image(vae, "test image", index, None)
    mu, _ = vm.encode(vae, x)
    updates = [
        gr.update(value=round(float(mu[i]), 2) if i < vae.latent_dim else 0.0, visible=i < vae.latent_dim)
        for i in range(SLIDERS)
    ]
    image, figure, note = _slider_views(vae, mu)
    return [*updates, image, figure, f"Started from the latent mean of {name}. {note}"]


def _slider_views(vae: vm.ShippedVAE, z: torch.Tensor):
    image = view.enlarge(vm.decode(vae, z))
    if vae.latent_dim == 2:
        return image, _map_figure(vae, marker=(float(z[0]), float(z[1])), title="Where the sliders are"), ""
    place = vm.umap_place(vae, z)
    how = "exact UMAP transform" if place.exact else "approximate place (neighbour average) while UMAP warms up"
    figure = _map_figure(vae, marker=place.xy, marker_label="current z", title="Where the sliders are (UMAP picture)")
    return image, figure, f"Marker: {how}."


def slide(key: str, *values):
    vae = _vae(key)
    z = torch.tensor([float(v or 0.0) for v in values[: vae.latent_dim]])
    try:
        image, figure, note = _slider_views(vae, z)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    return image, figure, note


# --- 5. one pass, taken apart ---


def one_pass(key: str, source: str, index, editor, seed):
    vae = _vae(key)
    x, name = _picked_image(vae, source, index, editor)
    seed = _seed(seed)
    mu, sigma = vm.encode(vae, x)
    generator = seeding.generator(seed)
    z = mu + sigma * torch.randn(mu.shape, generator=generator)
    spread = mu + sigma * torch.randn((16, len(mu)), generator=generator)  # 16 more draws from q(z | x)
    with torch.no_grad():
        logits = vae.model.decode_logits(z[None].to(next(vae.model.parameters()).device)).cpu()
    reconstruction = float(reconstruction_nll(logits, x.reshape(1, 1, 28, 28))[0])
    kl = float(kl_divergence(mu[None], torch.log(sigma[None] ** 2))[0])
    decoded = torch.sigmoid(logits)[0] * 2 - 1
    summary = (
        f"**{name}**, seed {seed}. Reconstruction −log p(x | z) = **{reconstruction:.1f}** nats; "
        f"KL(q(z | x) ‖ N(0, I)) = **{kl:.1f}** nats; this sample's ELBO estimate −(rec + KL) = "
        f"**{-(reconstruction + kl):.1f}**. Mean σ = {float(sigma.mean()):.3f}: the encoder is that unsure where the "
        "image belongs. Below: 16 more draws of z from the same cloud, decoded."
    )
    spread_images = vm.decode_batched(vae.model, spread)
    return (
        view.enlarge(x),
        view.posterior_figure(mu, sigma, z),
        view.enlarge(decoded),
        view.tile(spread_images, columns=8, scale=3),
        summary,
    )


# --- 6. train live ---


class LiveSession:
    """One browser session's live VAE and the event its Stop button sets."""

    def __init__(self) -> None:
        self.trainer: LiveVAE | None = None
        self.stop = threading.Event()


def _close_session(session: LiveSession | None) -> None:  # gr.State's delete_callback: the user left
    if session is not None:
        session.stop.set()
        session.trainer = None


def train_live(session: LiveSession | None, dataset: str, beta, epochs, seed):
    session = session or LiveSession()
    seed = _seed(seed)
    try:
        beta = float(beta)
        epochs = float(epochs)
    except (TypeError, ValueError):
        raise gr.Error("Beta and epochs must be numbers.") from None
    if not 0 <= beta <= 20:
        raise gr.Error("Choose beta between 0 and 20.")
    if dataset not in images.DATASETS:
        raise gr.Error(f"Unknown data set {dataset!r}; choose mnist or fashion.")
    session.stop.clear()
    # hand the session to the browser before anything slow (a process's first optimizer imports
    # torch._dynamo, ~3 s), so a Stop pressed at once finds it
    yield session, gr.update(), gr.update(), "Starting…"
    trainer = session.trainer
    if trainer is None or trainer.dataset != dataset or trainer.seed != seed:
        try:
            trainer = session.trainer = LiveVAE(dataset=dataset, seed=seed, beta=beta)
        except ValueError as err:
            raise gr.Error(str(err)) from None
    trainer.beta = beta
    class_names = images.info(dataset).class_names
    try:
        for frame in trainer.run(epochs, stop=session.stop):
            status = (
                f"Step {frame.step:,} (epoch {frame.epoch:.1f}) in {frame.seconds:.1f} s this run, β = {beta:g}."
                + (f" Ended early: {frame.stopped}." if frame.stopped else "")
                + (" Done." if frame.done and not frame.stopped else "")
            )
            if frame.history:
                last = frame.history[-1]
                status += (
                    f" Last batch: reconstruction {last['reconstruction']:.1f}, KL {last['kl']:.1f}, "
                    f"total {last['loss']:.1f} nats."
                )
            figure = view.latent_map(
                frame.latents, frame.labels, class_names, f"Latent means of 1,000 test images, step {frame.step}"
            )
            yield session, view.losses_figure(frame.history), figure, status
    except ValueError as err:
        raise gr.Error(str(err)) from None


def stop_live(session: LiveSession | None) -> None:
    """Ask the running loop to end; it checks before every step and sends its final frame itself."""
    if session is not None:
        session.stop.set()


def reset_live(session: LiveSession | None):
    if session is not None:
        session.stop.set()
        session.trainer = None
    return session, None, None, "Reset: the next run starts from fresh random weights."


# --- layout ---


def _blank_canvas() -> dict:
    """A white page to draw on: the editor opens ready for the brush."""
    import numpy as np

    return {"background": np.full((280, 280, 4), 255, dtype=np.uint8), "layers": [], "composite": None}


def _picker(label: str, prefix: str, default_index: int):
    with gr.Column():
        gr.Markdown(f"**{label}**")
        source = gr.Radio(
            ["test image", "drawing or upload"], value="test image", label="From", elem_id=f"{prefix}-source"
        )
        index = gr.Number(default_index, label="Test image number (0-999)", precision=0, elem_id=f"{prefix}-index")
        editor = PictureEditor(
            value=_blank_canvas(),
            label="Draw with the brush, or upload a picture",
            type="numpy",
            image_mode="RGBA",
            sources=("upload", "clipboard"),
            brush=gr.Brush(default_size=18, colors=["#000000"], color_mode="fixed"),
            canvas_size=(280, 280),
            height=320,
            elem_id=f"{prefix}-editor",
        )
    return source, index, editor


def render(demo: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    with gr.Row():
        model = gr.Dropdown(_model_choices(), value=DEFAULT_MODEL, label="Model", scale=2, elem_id="vae-model")
        card = gr.Markdown(elem_id="vae-card")
    with gr.Tabs():
        with gr.Tab("Latent map", id="vae-map-tab"):
            with gr.Row():
                latent_plot = gr.Plot(elem_id="vae-map", scale=3)
                with gr.Column(scale=1):
                    decoded = gr.Image(label="Decoded", height=220, elem_id="vae-decoded", format="png")
                    where = gr.Markdown(elem_id="vae-where")
                    with gr.Row():
                        z1 = gr.Number(0.0, label="z₁", elem_id="vae-z1")
                        z2 = gr.Number(0.0, label="z₂", elem_id="vae-z2")
                    decode_btn = gr.Button("Decode", elem_id="vae-decode")
            # written by the map's hover/click script (JS below); hidden by CSS, not visible=False,
            # so the element exists for the script
            map_point = gr.Textbox(elem_id="vae-map-point", elem_classes=["pg-hidden"], show_label=False)
        with gr.Tab("β trade-off", id="vae-beta-tab"):
            beta_summary = gr.Markdown(elem_id="vae-beta-summary")
            with gr.Row():
                beta_plots = [gr.Plot(elem_id=f"vae-beta-map-{i}") for i in range(len(BETA_MODELS))]
        with gr.Tab("Manifold", id="vae-manifold-tab"):
            with gr.Row():
                grid_n = gr.Slider(2, vm.MAX_GRID, value=15, step=1, label="Grid size n", elem_id="vae-grid-n")
                low = gr.Number(-3.0, label="From", elem_id="vae-low")
                high = gr.Number(3.0, label="To", elem_id="vae-high")
                spacing = gr.Radio(["quantile", "linear"], value="quantile", label="Spacing", elem_id="vae-spacing")
                # every dimension of the largest model, so API callers need not pick a model first;
                # choosing a model narrows the list, and the handler checks against the model
                all_dims = [(f"z{i + 1}", i) for i in range(SLIDERS)]
                dim_x = gr.Dropdown(all_dims, value=0, label="Across", elem_id="vae-dim-x")
                dim_y = gr.Dropdown(all_dims, value=1, label="Up", elem_id="vae-dim-y")
            manifold_btn = gr.Button("Draw the manifold", variant="primary", elem_id="vae-manifold-run")
            manifold_note = gr.Markdown(elem_id="vae-manifold-note")
            manifold_plot = gr.Plot(elem_id="vae-manifold")
        with gr.Tab("Interpolate", id="vae-interp-tab"):
            with gr.Row():
                source_a, index_a, editor_a = _picker("Start", "vae-a", 3)
                source_b, index_b, editor_b = _picker("End", "vae-b", 2)
            with gr.Row():
                frames = gr.Slider(2, 24, value=10, step=1, label="Frames", elem_id="vae-frames")
                kind = gr.Radio(["linear", "spherical", "both"], value="both", label="Path", elem_id="vae-path")
                interp_btn = gr.Button("Interpolate", variant="primary", elem_id="vae-interp-run")
            interp_summary = gr.Markdown(elem_id="vae-interp-summary")
            interp_strip = gr.Image(label="Frames", elem_id="vae-interp-strip", format="png")
            with gr.Row():
                interp_map = gr.Plot(elem_id="vae-interp-map", scale=3)
                interp_gif = gr.File(label="GIF", elem_id="vae-interp-gif", scale=1)
        with gr.Tab("Sliders", id="vae-sliders-tab"):
            gr.Markdown(
                "Start from a test image's latent mean, then move one dimension at a time. In a 16-D model most "
                "dimensions change something specific (thickness, slant, width); some change nothing at all: the KL "
                "term switched them off."
            )
            with gr.Row():
                start_index = gr.Number(0, label="Start from test image", precision=0, elem_id="vae-start-index")
                start_btn = gr.Button("Encode it", elem_id="vae-start")
            with gr.Row():
                sliders = []
                for half in (range(0, SLIDERS, 2), range(1, SLIDERS, 2)):  # two columns: z1 z3 ... | z2 z4 ...
                    with gr.Column(scale=1, min_width=180):
                        for i in half:
                            slider = gr.Slider(
                                -SLIDER_RANGE,
                                SLIDER_RANGE,
                                value=0.0,
                                step=0.05,
                                label=f"z{i + 1}",
                                visible=i < 2,
                                elem_id=f"vae-slider-{i}",
                            )
                            sliders.append((i, slider))
                sliders = [slider for _, slider in sorted(sliders, key=lambda pair: pair[0])]
                with gr.Column(scale=2):
                    slider_image = gr.Image(label="Decoded", height=220, elem_id="vae-slider-image", format="png")
                    slider_note = gr.Markdown(elem_id="vae-slider-note")
                    slider_map = gr.Plot(elem_id="vae-slider-map")
        with gr.Tab("One pass", id="vae-pass-tab"):
            with gr.Row():
                pass_source, pass_index, pass_editor = _picker("Input", "vae-pass", 0)
                with gr.Column():
                    pass_seed = gr.Number(
                        seeding.DEFAULT_SEED, label="Seed for z", precision=0, elem_id="vae-pass-seed"
                    )
                    pass_btn = gr.Button("Run one pass", variant="primary", elem_id="vae-pass-run")
                    resample_btn = gr.Button("Resample z (next seed)", elem_id="vae-pass-resample")
            pass_summary = gr.Markdown(elem_id="vae-pass-summary")
            with gr.Row():
                pass_input = gr.Image(label="x (input)", height=200, elem_id="vae-pass-input", format="png")
                pass_posterior = gr.Plot(elem_id="vae-pass-posterior")
                pass_output = gr.Image(label="decoded from z", height=200, elem_id="vae-pass-output", format="png")
            pass_spread = gr.Image(label="16 more z from q(z | x)", elem_id="vae-pass-spread", format="png")
        with gr.Tab("Train live", id="vae-live-tab"):
            gr.Markdown(
                "Train a fresh 2-D VAE here, on the 5,000 shipped training images, and watch the classes separate. "
                "Try β = 4 (tidy, blurry) against β = 0.5 (sharper, ragged map). Runs continue the same model; "
                f"Reset starts over. A run stops by itself after 10 minutes or {MAX_EPOCHS} epochs."
            )
            with gr.Row():
                live_data = gr.Radio(["mnist", "fashion"], value="mnist", label="Data", elem_id="vae-live-data")
                live_beta = gr.Slider(0.0, 8.0, value=1.0, step=0.1, label="β", elem_id="vae-live-beta")
                live_epochs = gr.Slider(0.5, MAX_EPOCHS, value=5, step=0.5, label="Epochs", elem_id="vae-live-epochs")
                live_seed = gr.Number(seeding.DEFAULT_SEED, label="Seed", precision=0, elem_id="vae-live-seed")
            with gr.Row():
                live_train = gr.Button("Train", variant="primary", elem_id="vae-live-train")
                live_stop = gr.Button("Stop", variant="stop", elem_id="vae-live-stop")
                live_reset = gr.Button("Reset", elem_id="vae-live-reset")
            live_status = gr.Markdown(elem_id="vae-live-status")
            with gr.Row():
                live_losses = gr.Plot(elem_id="vae-live-losses")
                live_map = gr.Plot(elem_id="vae-live-map")
            live_session = gr.State(None, time_to_live=3600, delete_callback=_close_session)

    gr.on(
        [tab.select, model.input],
        show_model,
        [model],
        [card, latent_plot, dim_x, dim_y],
        api_name="vae_model",
    )
    tab.select(beta_tradeoff, None, [*beta_plots, beta_summary], api_name="vae_beta_tradeoff")
    map_point.change(
        decode_point, [model, map_point], [decoded, where], api_name="vae_decode_point", trigger_mode="always_last"
    )
    decode_btn.click(decode_latent, [model, z1, z2], [decoded, where], api_name="vae_decode")
    manifold_inputs = [model, grid_n, low, high, spacing, dim_x, dim_y]
    gr.on(
        [manifold_btn.click, tab.select, model.input],
        manifold,
        manifold_inputs,
        [manifold_plot, manifold_note],
        api_name="vae_manifold",
    )
    interp_btn.click(
        interpolate,
        [model, source_a, index_a, editor_a, source_b, index_b, editor_b, frames, kind],
        [interp_strip, interp_map, interp_gif, interp_summary],
        api_name="vae_interpolate",
    )
    start_outputs = [*sliders, slider_image, slider_map, slider_note]
    gr.on(
        [start_btn.click, model.input, tab.select],
        encode_for_sliders,
        [model, start_index],
        start_outputs,
        api_name="vae_encode_for_sliders",
    )
    gr.on(
        [s.input for s in sliders],
        slide,
        [model, *sliders],
        [slider_image, slider_map, slider_note],
        api_name="vae_slide",
        trigger_mode="always_last",
    )
    pass_outputs = [pass_input, pass_posterior, pass_output, pass_spread, pass_summary]
    pass_inputs = [model, pass_source, pass_index, pass_editor, pass_seed]
    pass_btn.click(one_pass, pass_inputs, pass_outputs, api_name="vae_one_pass")
    resample_btn.click(
        lambda s: (_seed(s) + 1) % (seeding.MAX_SEED + 1), pass_seed, pass_seed, api_visibility="private"
    ).then(one_pass, pass_inputs, pass_outputs, api_visibility="private")
    live_train.click(
        train_live,
        [live_session, live_data, live_beta, live_epochs, live_seed],
        [live_session, live_losses, live_map, live_status],
        api_name="vae_train_live",
        concurrency_limit=2,
        concurrency_id="live-training",
    )
    # not queued behind the training it stops
    live_stop.click(stop_live, live_session, None, api_name="vae_stop_live", concurrency_limit=None)
    live_reset.click(
        reset_live, live_session, [live_session, live_losses, live_map, live_status], api_name="vae_reset_live"
    )


# The latent map's hover and click: plotly's own axis objects turn a mouse position into data
# coordinates; the result goes into the hidden #vae-map-point textbox (at most every 50 ms),
# whose change event decodes it on the server.
JS = """
() => {
  let last = 0, pending = null;
  const send = (text) => {
    const box = document.querySelector('#vae-map-point textarea');
    if (!box || box.value === text) return;
    box.value = text;
    box.dispatchEvent(new Event('input', { bubbles: true }));
  };
  const toLatent = (plot, event) => {
    const layout = plot._fullLayout;
    if (!layout || !layout.xaxis || !layout.yaxis) return null;
    const area = plot.querySelector('.nsewdrag') || plot;
    const box = area.getBoundingClientRect();
    const px = event.clientX - box.left, py = event.clientY - box.top;
    if (px < 0 || py < 0 || px > box.width || py > box.height) return null;
    return [layout.xaxis.p2d(px), layout.yaxis.p2d(py)];
  };
  const handle = (plot, event, force) => {
    const point = toLatent(plot, event);
    if (!point || !isFinite(point[0]) || !isFinite(point[1])) return;
    const text = point[0].toFixed(3) + ',' + point[1].toFixed(3);
    const now = Date.now();
    clearTimeout(pending);
    if (force || now - last > 50) { last = now; send(text); }
    else pending = setTimeout(() => { last = Date.now(); send(text); }, 50);
  };
  const bind = () => {
    const plot = document.querySelector('#vae-map .js-plotly-plot');
    if (!plot || plot.dataset.vaeBound) return;
    plot.dataset.vaeBound = '1';
    plot.addEventListener('mousemove', (e) => handle(plot, e, false));
    plot.addEventListener('click', (e) => handle(plot, e, true));
  };
  new MutationObserver(bind).observe(document.body, { childList: true, subtree: true });
}
"""

CSS = """
.pg-hidden { display: none !important; }
#vae-map { cursor: crosshair; }
"""
