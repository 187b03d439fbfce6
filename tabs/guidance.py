"""Guidance tab: classifier-free guidance, negative prompts, samplers and seeds on a Stable-Diffusion-format pipeline.

Layout and wiring only; handlers are tabs.guidance_handlers', pictures tabs.guidance_view's.
"""

from __future__ import annotations

import gradio as gr

from core import guidance as g
from tabs import guidance_handlers as h
from tabs import queueing

TITLE = "SD guidance"
TAB_ID = "guidance"

SHOW_ME = {
    "Guidance too low": (
        "Press **Generate**: at scale 1 (no guidance) many images do not show a seven at all. Then try 3 and 7.5 "
        "with the same seed, or run the sweep below.",
        {"prompt": "a handwritten seven", "scale": "1", "seed": "0", "negative": ""},
    ),
    "Guidance too high": (
        "Press **Generate**: at scale 20 the images are all sevens but harsh and alike; raise **guidance rescale** "
        "to 0.7 and generate again to tame it.",
        {"prompt": "a handwritten seven", "scale": "20", "seed": "0", "negative": ""},
    ),
    "Negative prompt": (
        "Press **Generate** with a generic prompt: any digit comes out. The negative prompt 'a handwritten one' "
        "makes guidance push away from ones; clear it and generate again to compare.",
        {"prompt": "a handwritten digit", "negative": "a handwritten one", "scale": "5", "seed": "0", "images": "8"},
    ),
}

INTRO = """\
### Guidance: how strongly the image follows the prompt
At every step the network guesses the noise **twice**: once without the prompt (or with the *negative* prompt) and
once with it. Classifier-free guidance takes the difference, *what the prompt adds*, and exaggerates it:
**guided = uncond + scale × (cond − uncond)**. Scale 1 is the plain conditional guess; higher scales follow the
prompt harder, at a cost in variety. The embedded model, **TinySD**, has Stable Diffusion's parts (CLIP tokenizer and
text encoder, VAE, UNet, scheduler) at a size that runs instantly on a laptop; it knows digits ("a handwritten
seven") and clothes ("a photo of a sneaker"). Real SD 1.5 and SD-Turbo run through the same code when the Hub or a
local copy is available.
"""

EXAMPLES = ["a handwritten seven", "a photo of a sneaker", "a handwritten digit", "a photo of a bag", "the number 3"]


def render(demo: gr.Blocks, tab: gr.Tab) -> dict:
    gr.Markdown(INTRO)
    model_choices = [(choice.title, key) for key, choice in g.MODELS.items()] + [("A local folder …", g.LOCAL)]
    tiny = g.MODELS["tinysd"]
    samplers = g.schedulers_for(tiny)

    with gr.Accordion("1 · Generate, watching every step", open=True):
        with gr.Row():
            model = gr.Dropdown(model_choices, value="tinysd", label="Model", elem_id="sd-model", scale=2)
            folder = gr.Textbox(label="Local pipeline folder", visible=False, elem_id="sd-folder", scale=2)
        with gr.Row():
            prompt = gr.Textbox("a handwritten seven", label="Prompt", elem_id="sd-prompt", scale=3)
            negative = gr.Textbox("", label="Negative prompt", elem_id="sd-negative", scale=2)
        gr.Examples([[e] for e in EXAMPLES], [prompt], label="Prompts TinySD knows")
        with gr.Row():
            scale = gr.Slider(0, 20, value=tiny.scale, step=0.5, label="Guidance scale", elem_id="sd-scale")
            steps = gr.Slider(1, g.MAX_STEPS, value=tiny.steps, step=1, label="Steps", elem_id="sd-steps")
            scheduler = gr.Dropdown(samplers, value="DDIM", label="Sampler", elem_id="sd-scheduler")
            seed = gr.Number(0, label="Seed (image i: seed + i)", precision=0, elem_id="sd-seed")
            batch = gr.Slider(1, g.MAX_BATCH, value=4, step=1, label="Images", elem_id="sd-batch")
        with gr.Row():
            until = gr.Slider(0, 1, value=1, step=0.05, label="Guide only the first … of the steps", elem_id="sd-until")
            rescale = gr.Slider(
                0, 1, value=0, step=0.05, label="Guidance rescale φ", elem_id="sd-rescale", elem_classes=["pg-advanced"]
            )
            size = gr.Dropdown(
                [("model default", 0)] + [(f"{s} x {s}", s) for s in tiny.sizes],
                value=0,
                label="Size",
                elem_id="sd-size",
                elem_classes=["pg-advanced"],
            )
        with gr.Row():
            run_btn = gr.Button("Generate", variant="primary", elem_id="sd-run")
            gif_btn = gr.Button("Export the steps as GIF", elem_id="sd-gif-btn")
        status = gr.Markdown(elem_id="sd-status")
        with gr.Row():
            result = gr.Image(label="Images", elem_id="sd-images", scale=2)
            strip = gr.Image(label="Predicted clean image (x0) at each step", elem_id="sd-strip", scale=3)
        inspect_step = gr.Slider(1, tiny.steps, value=tiny.steps, step=1, label="Inspect step", elem_id="sd-step")
        noise = gr.Image(label="Noise predictions at this step (image 1)", elem_id="sd-noise")
        noise_note = gr.Markdown(elem_id="sd-noise-note")
        gif_file = gr.File(label="Steps GIF", elem_id="sd-gif")

    with gr.Accordion("2 · CFG sweep: guidance scales × seeds (× samplers)", open=True):
        with gr.Row():
            scales = gr.Textbox("1, 2, 3, 5, 7.5, 10", label="Guidance scales", elem_id="sweep-scales")
            columns = gr.Slider(1, g.MAX_BATCH, value=4, step=1, label="Seeds (columns)", elem_id="sweep-columns")
            sweep_samplers = gr.CheckboxGroup(
                samplers, value=[], label="Samplers (none ticked: the one above)", elem_id="sweep-samplers"
            )
            sweep_btn = gr.Button("Sweep", variant="primary", elem_id="sweep-run")
        sweep_note = gr.Markdown(elem_id="sweep-note")
        sweep_image = gr.Image(label="Sweep grid", elem_id="sweep-image")
        sweep_file = gr.File(label="Sweep grid PNG", elem_id="sweep-file")

    with gr.Accordion("3 · Measured: how guidance trades variety for adherence", open=True):
        curve_plot = gr.Plot(elem_id="sd-curve")
        curve_note = gr.Markdown(elem_id="sd-curve-note")

    with gr.Accordion("4 · Guidance in 2-D: the three vector fields", open=False) as accordion_2d:
        gr.Markdown(
            "A small flow trained on the 8 Gaussians, each mode a class, with the class hidden for a fifth of the "
            "points so one network knows both velocities. The same formula as above, on velocities: "
            "**guided = uncond + scale × (cond − uncond)**. Grey: unconditional; blue: conditional (towards the "
            "circled mode); red: guided. Black crosses: where 400 guided samples end."
        )
        with gr.Row():
            target = gr.Dropdown(
                [(f"mode {k} ({45 * k}°)", k) for k in range(8)], value=2, label="Class", elem_id="g2d-class"
            )
            scale_2d = gr.Slider(0, 10, value=3, step=0.25, label="Guidance scale", elem_id="g2d-scale")
            time_2d = gr.Slider(0, 1, value=0.5, step=0.05, label="Time t of the fields", elem_id="g2d-time")
            shown_2d = gr.CheckboxGroup(
                list(h.FIELD_NAMES), value=list(h.FIELD_NAMES), label="Fields", elem_id="g2d-fields"
            )
        plot_2d = gr.Plot(elem_id="g2d-plot")
        note_2d = gr.Markdown(elem_id="g2d-note")

    last_run = gr.State(None, time_to_live=3600)
    settings = [model, folder, prompt, negative, scale, rescale, steps, scheduler, seed, batch, size, until]
    run_btn.click(
        h.generate,
        settings,
        [last_run, result, strip, inspect_step, status],
        api_name="guidance_generate",
        **queueing.generate_line(),
    ).then(h.inspect, [last_run, model, folder, inspect_step], [noise, noise_note], api_visibility="private")
    inspect_step.input(
        h.inspect,
        [last_run, model, folder, inspect_step],
        [noise, noise_note],
        api_name="guidance_inspect",
        trigger_mode="always_last",
    )
    gif_btn.click(h.export_gif, last_run, gif_file, api_name="guidance_gif")
    sweep_btn.click(
        h.sweep,
        [model, folder, prompt, negative, rescale, steps, scheduler, seed, size, scales, columns, sweep_samplers],
        [sweep_image, sweep_file, sweep_note],
        api_name="guidance_sweep",
        **queueing.SAMPLING,
    )
    model.change(
        h.model_changed, model, [folder, scheduler, size, steps, scale, sweep_samplers], api_visibility="private"
    )
    tab.select(h.curve_chart, None, [curve_plot, curve_note], api_name="guidance_curve")
    tab.select(h.warm_2d, None, None, api_visibility="private")
    inputs_2d = [target, scale_2d, time_2d, shown_2d]
    accordion_2d.expand(h.guidance_2d, inputs_2d, [plot_2d, note_2d], api_name="guidance_2d")
    for control in (target, shown_2d):
        control.change(h.guidance_2d, inputs_2d, [plot_2d, note_2d], api_visibility="private")
    for slider in (scale_2d, time_2d):
        slider.release(h.guidance_2d, inputs_2d, [plot_2d, note_2d], api_visibility="private")
    return {
        "model": model,
        "prompt": prompt,
        "negative": negative,
        "scale": scale,
        "steps": steps,
        "sampler": scheduler,
        "seed": seed,
        "images": batch,
        "until": until,
        "rescale": rescale,
        "scales": scales,
        "columns": columns,
        "class_2d": target,
        "scale_2d": scale_2d,
    }


CSS = ""
