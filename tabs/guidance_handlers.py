"""The guidance tab's handlers: generate with previews, inspect a step, export, sweep, the measured curve.

Compute is core.guidance / core.guidance_run's; pictures are tabs.guidance_view's. The last run of
a session lives in its gr.State, so inspecting its steps and exporting it need no recomputation.
"""

from __future__ import annotations

import threading
import time

import gradio as gr
import torch

from core import guidance as g
from core import guidance_batching as batching
from core import guidance_quality as quality
from core import guidance_run as gr_run
from tabs import guidance_view as view
from tabs import queueing
from tabs.exports import export_path
from tabs.image_views import png_bytes
from tabs.inputs import kept_step, whole_number

# A run sends a picture at most this often, times the number of requests sharing its pipeline
# call: rendering and sending strips costs the server about the same however many users wait.
STREAM_SECONDS = 0.15


def _loaded(model, folder) -> g.Loaded:
    try:
        return g.load(model, folder)
    except g.ModelUnavailable as err:
        raise gr.Error(str(err)) from None


OUT_OF_MEMORY = "The GPU ran out of memory: try fewer images, fewer samplers in the sweep, or a smaller size."


def _out_of_memory_error() -> gr.Error:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()  # so the next, smaller request can run without a restart
    return gr.Error(OUT_OF_MEMORY)


def settings_of(prompt, negative, scale, rescale, steps, scheduler, seed, batch, size, until) -> g.Settings:
    return g.Settings(
        prompt=prompt,
        negative=negative,
        scale=scale,
        rescale=rescale,
        steps=steps,
        scheduler=scheduler,
        seed=seed,
        batch=batch,
        size=size or 0,
        guidance_until=until,
    )


def _status(run: gr_run.Run, loaded: g.Loaded) -> str:
    notices = "".join(f"\n\n⚠ {n}" for n in run.notices)
    if not run.steps:
        return "Waiting for the model: other users' runs first …"
    if not run.done:
        return f"Step {len(run.steps)} of {run.settings.steps} …{notices}"
    others = run.requests_in_call - 1
    shared = f" (in one batch with {others} other request{'s' if others > 1 else ''})" if others else ""
    return (
        f"Done in {run.seconds:.2f} s on {loaded.device.type.upper()}{shared}: {run.settings.describe()}. "
        f"Drag **Inspect step** to see what the network predicted at any step.{notices}"
    )


def _finished(run: gr_run.Run, loaded: g.Loaded) -> tuple:
    """What the tab shows for a finished run: the run (for the inspector), the images, the strip, the
    inspector slider, the status line."""
    labels = [f"seed {run.settings.seed + i}" for i in range(run.settings.batch)]
    inspector = gr.update(maximum=run.settings.steps, value=run.settings.steps)
    return run, view.images_grid(run.images, labels), view.preview_strip(run), inspector, _status(run, loaded)


def generate(model, folder, prompt, negative, scale, rescale, steps, scheduler, seed, batch, size, until):
    """Stream a run: the x0 preview strip grows step by step; then the images and the step inspector."""
    loaded = _loaded(model, folder)
    settings = settings_of(prompt, negative, scale, rescale, steps, scheduler, seed, batch, size, until)
    try:
        # with request batching, runs that wait together share pipeline calls (tabs.queueing)
        runner = (
            batching.batcher_for(loaded).run(settings) if queueing.batch_requests() else gr_run.run(loaded, settings)
        )
        last_sent = 0.0
        for run in runner:
            now = time.perf_counter()
            if not run.done and now - last_sent < STREAM_SECONDS * run.requests_in_call:
                continue
            last_sent = now
            if run.done:
                yield _finished(run, loaded)
            else:
                strip = view.preview_strip(run) if run.steps else gr.update()
                yield None, None, strip, gr.update(), _status(run, loaded)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    except torch.OutOfMemoryError:
        raise _out_of_memory_error() from None


def inspect(run, model, folder, step):
    """The noise predictions of image 0 at kept step `step` (1-based) and the clean images they imply."""
    if run is None:
        return None, "Generate first."
    chosen = run.steps[kept_step(step, len(run.steps))]
    loaded = _loaded(model, folder)
    if loaded.key != run.model:
        return None, "The model changed since this run: generate again."
    decoded = {}
    for name, eps in (("unconditional", chosen.uncond), ("conditional", chosen.cond), ("guided", chosen.guided)):
        if eps is not None:
            x0 = (chosen.x_t - (1 - chosen.abar) ** 0.5 * eps) / chosen.abar**0.5
            decoded[name] = gr_run.decode(loaded, x0[None].to(loaded.device))[0]
    note = (
        f"Step {chosen.index + 1} of {run.settings.steps} (timestep {chosen.timestep:.0f}, ᾱ = {chosen.abar:.3f}), "
        f"image 1 (seed {run.settings.seed}). The guided prediction is uncond + {run.settings.scale:g} × (cond − uncond)"
        + (f", rescaled by φ = {run.settings.rescale:g}" if run.settings.rescale else "")
        + "; right: the clean image each prediction implies."
    )
    return view.noise_view(run, chosen, decoded), note


def export_gif(run):
    if run is None:
        raise gr.Error("Generate first.")
    caption = f"{g.MODELS.get(run.model, g.local_choice('folder')).title.split(':')[0]}: {run.settings.describe()}"
    path = export_path(
        f"guidance-{run.settings.scheduler.replace(' ', '-')}-cfg{run.settings.scale:g}-seed{run.settings.seed}.gif"
    )
    path.write_bytes(view.gif_of_strip(run, caption))
    return str(path)


def parse_scales(text) -> list[float]:
    if not isinstance(text, str) or not text.strip():
        raise gr.Error("Give the guidance scales as numbers separated by commas, e.g. 1, 3, 7.5.")
    try:
        scales = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise gr.Error(f"{text[:60]!r} is not a list of numbers: write e.g. 1, 3, 7.5.") from None
    if not scales or any(not 0 <= s <= g.MAX_SCALE for s in scales):
        raise gr.Error(f"Every guidance scale must be a number from 0 to {g.MAX_SCALE:g}.")
    return scales


def sweep(model, folder, prompt, negative, rescale, steps, scheduler, seed, size, scales_text, columns, samplers):
    loaded = _loaded(model, folder)
    scales = parse_scales(scales_text)
    if samplers is not None and not isinstance(samplers, list):
        raise gr.Error("The samplers must be a list of names.")
    settings = settings_of(prompt, negative, 1.0, rescale, steps, scheduler, seed, 1, size, 1.0)
    columns = whole_number(columns, "number of seeds")
    if not 1 <= columns <= g.MAX_BATCH:
        raise gr.Error(f"The number of seeds must be between 1 and {g.MAX_BATCH}.")
    try:
        result = gr_run.sweep(loaded, settings, scales, columns, list(samplers or []) or None)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    except torch.OutOfMemoryError:
        raise _out_of_memory_error() from None
    picture = view.sweep_grid(result)
    path = export_path(f"cfg-sweep-seed{result.seeds[0]}.png")
    path.write_bytes(png_bytes(picture))
    note = (
        f"{len(result.cells) * len(result.seeds)} images in {result.seconds:.1f} s. Down a column the seed (the "
        "starting noise) is the same, so only guidance changes: low scales ignore the prompt more, high scales "
        "follow it harder but lose variety and, past some point, quality."
    )
    return picture, str(path), note


def model_changed(model):
    """Controls that depend on the model: samplers, sizes, its usual steps and scale, the folder field."""
    choice = g.MODELS.get(model, g.local_choice("folder"))
    samplers = g.schedulers_for(choice)
    return (
        gr.update(visible=model == g.LOCAL),
        gr.update(choices=samplers, value="DDIM" if "DDIM" in samplers else samplers[0]),
        gr.update(choices=[("model default", 0)] + [(f"{s} x {s}", s) for s in choice.sizes], value=0),
        gr.update(value=choice.steps),
        gr.update(value=choice.scale),
        gr.update(choices=samplers),
    )


def curve_chart():
    """TinySD's measured class accuracy and FD-classifier against guidance scale (its card), and the negative-prompt effect."""
    from tabs.image_views import quality_figure

    measured = quality.measured()
    if measured is None:
        return None, "TinySD's card has no guidance curve yet (`python -m scripts.train tinysd --dataset captioned`)."
    curve, negative, how = measured
    colours = {"mnist": "#4e79a7", "fashion": "#e15759"}
    lines = [
        (
            name,
            [
                {"scale": p["scale"], "class_accuracy": p["accuracy"], "fd_classifier": p["fd"]}
                for p in curve
                if p["dataset"] == key
            ],
            colours[key],
            "solid",
        )
        for key, name in (("mnist", 'digits ("a handwritten seven")'), ("fashion", 'clothes ("a photo of a sneaker")'))
    ]
    figure = quality_figure(lines, "TinySD: prompt adherence vs guidance scale", "guidance scale", "scale")
    names = {"mnist": "digits", "fashion": "clothes"}
    effects = "; ".join(
        f"{names.get(e['dataset'], e['dataset'])}: {e['share_without']:.0%} on average, {e['share_with']:.0%} when "
        "named as the negative prompt"
        for e in negative
    )
    return figure, (
        f"Measured when TinySD was trained ({how}). Negative prompt (scale {negative[0]['scale']:g}, generic prompt "
        f"such as 'a handwritten digit'), share of images showing a class: {effects}."
    )


FIELD_NAMES = ("unconditional", "conditional", "guided")


def guidance_2d(target, scale, t, shown=FIELD_NAMES):
    """The 2-D picture of guidance: fields at time t and where 400 guided samples land."""
    from core import guidance2d

    try:
        fields = guidance2d.fields(target, scale, t)
        samples = guidance2d.sample(target, scale)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    if not isinstance(shown, list | tuple) or not set(shown) <= set(FIELD_NAMES):
        raise gr.Error(f"The fields to show must be some of: {', '.join(FIELD_NAMES)}.")
    run = guidance2d.trained()
    mode = run.data.modes[int(target)]
    note = (
        f"Scale {float(scale):g}: {samples.on_target:.0%} of 400 guided samples land on the chosen mode (circled), "
        f"{samples.near_any_mode:.0%} on any mode"
        + (f"; their spread is {samples.spread:.2f}× the mode's true spread" if samples.on_target else "")
        + ". Scale 0 is the unconditional model, 1 the conditional one; above 1 guidance overshoots what the class "
        "adds: every sample obeys, but the spread no longer matches the data."
    )
    figure = view.fields_figure(fields, samples, run.data.points, mode, float(scale), float(t), list(shown))
    return figure, note


_warm_up_started = threading.Event()


def warm_2d() -> None:
    """Train the 2-D model in the background the first time the tab opens, so section 4 answers at once."""
    from core import guidance2d

    if not _warm_up_started.is_set():  # one thread per server, however many times the tab opens
        _warm_up_started.set()
        threading.Thread(target=guidance2d.trained, daemon=True, name="guidance-2d-warmup").start()
