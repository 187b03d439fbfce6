"""VAE tab: a latent space to hover, walk, interpolate, project, take apart and train live.

Layout and wiring only: the handlers are in tabs/vae_handlers.py, the numbers come from
core.vae / core.vae_models / core.vae_live and the pictures from tabs.vae_view. Hovering the latent map is the one piece of browser code (JS
below): it turns the mouse position into latent coordinates and hands them to a hidden textbox,
whose change event decodes them on the server (~3 ms of model time).
"""

from __future__ import annotations

import gradio as gr

from core import live_slots, seeding
from core import vae_models as vm
from core.vae_live import MAX_EPOCHS
from tabs.pictures import PictureEditor
from tabs.vae_handlers import (
    BETA_MODELS,
    SLIDERS,
    beta_tradeoff,
    checked_seed,
    decode_latent,
    decode_point,
    encode_for_sliders,
    interpolate,
    manifold,
    model_choices,
    one_pass,
    show_model,
    slide,
)
from tabs.vae_training import close_session, reset_live, stop_live, train_live

TITLE = "VAE"
TAB_ID = "vae"
SLIDER_RANGE = 4.0
DEFAULT_MODEL = "vae-2d-mnist"

# "Show me…" (tabs.links): each sets a few controls and says what to press and what to look for.
SHOW_ME = {
    "β too high": (
        "β = 4 pulls every code towards the prior: on the map the digit classes overlap more, and decoded "
        "points look vaguer. The β trade-off below puts it next to β = 0.5 and 1 with their numbers.",
        {"model": "vae-2d-beta4-mnist"},
    ),
    "A walk between two digits": (
        "Open **Interpolate** and press its button: the straight and the spherical path between two test images, "
        "frame by frame, and where each path runs on the latent map.",
        {"model": "vae-2d-mnist", "frames": "12", "path": "both"},
    ),
}

INTRO = """\
### Variational autoencoder: a map you can walk
The encoder turns an image into a small Gaussian cloud **q(z | x)** (mean μ, spread σ) in a latent space; the decoder
turns any point **z** back into an image. Training minimises **reconstruction + β·KL**: the reconstruction term
(nats) says how well the image comes back, the KL term how far the cloud strays from the prior N(0, I).
Bigger β: smoother, more Gaussian map, blurrier images. The ELBO shown is −(reconstruction + KL) with β = 1.
"""


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


def render(demo: gr.Blocks, tab: gr.Tab) -> dict:
    gr.Markdown(INTRO)
    with gr.Row():
        model = gr.Dropdown(model_choices(), value=DEFAULT_MODEL, label="Model", scale=2, elem_id="vae-model")
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
            live_session = gr.State(None, time_to_live=3600, delete_callback=close_session)

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
        lambda s: (checked_seed(s) + 1) % (seeding.MAX_SEED + 1), pass_seed, pass_seed, api_visibility="private"
    ).then(one_pass, pass_inputs, pass_outputs, api_visibility="private")
    live_train.click(
        train_live,
        [live_session, live_data, live_beta, live_epochs, live_seed],
        [live_session, live_losses, live_map, live_status],
        api_name="vae_train_live",
        concurrency_limit=live_slots.HANDLERS,
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
    return {
        "model": model,
        "z1": z1,
        "z2": z2,
        "grid": grid_n,
        "from": low,
        "to": high,
        "spacing": spacing,
        "frames": frames,
        "path": kind,
        "live_data": live_data,
        "beta": live_beta,
        "epochs": live_epochs,
        "seed": live_seed,
    }


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
