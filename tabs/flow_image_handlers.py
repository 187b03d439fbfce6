"""The flow tab's image half: sample the shipped MNIST / Fashion-MNIST flows step by step, and race them against DDIM.

Compute is core.flow_models'; pictures are tabs.flow_view's. The last run lives in the session's
FlowSession (tabs.flow_handlers), so scrubbing its steps and exporting it need no recomputation.
"""

from __future__ import annotations

import time

import gradio as gr

from core import diffusion_models as dm
from core import flow, images
from core import flow_models as fm
from core.assets import AssetError
from tabs import flow_view as view
from tabs.diffusion_handlers import classes_from_choice
from tabs.exports import export_path
from tabs.flow_handlers import FlowSession
from tabs.image_views import gif_of_pictures
from tabs.inputs import kept_step

STREAM_SECONDS = 0.1  # a sampling run sends a frame at most this often (and after its first step)
GIF_FRAMES = 60


def _error(err: Exception) -> gr.Error:
    return gr.Error(str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err))


def _batch(batch) -> int:
    try:
        return dm.check_batch(batch)
    except ValueError as err:
        raise gr.Error(str(err)) from None


def _step_status(flow_run: fm.FlowRun, index: int) -> str:
    frame = flow_run.frames[index]
    return (
        f"Step {index + 1} of {flow_run.steps}: t = {frame.t:.2f}. Left, the samples; right, where the velocity "
        f"field points if followed in a straight line to t = 1. ({flow_run.describe()})"
    )


def sample_images(session, dataset, class_choice, solver, steps, seed, batch):
    session = session or FlowSession()
    batch = _batch(batch)
    try:
        runner = fm.run(fm.shipped(dataset), solver, steps, seed, classes_from_choice(class_choice, batch), batch)
        flow_run = next(runner)  # validates everything before the first frame goes out
    except (ValueError, TypeError, KeyError, AssetError) as err:
        raise _error(err) from None
    session.image_run = flow_run
    last_sent = time.perf_counter()
    yield (
        session,
        view.frame_lanes_image(flow_run.frames[-1]),
        gr.update(maximum=flow_run.steps, value=1),
        (_step_status(flow_run, 0)),
    )
    for flow_run in runner:
        now = time.perf_counter()
        if not flow_run.done and now - last_sent < STREAM_SECONDS:
            continue
        last_sent = now
        index = len(flow_run.frames) - 1
        if flow_run.done:
            status = (
                f"Done: {flow_run.describe()} in {flow_run.seconds:.2f} s. Drag the step slider to look back at "
                "any step."
            )
            yield session, view.frame_lanes_image(flow_run.frames[index]), gr.update(value=flow_run.steps), status
        else:
            yield (
                session,
                view.frame_lanes_image(flow_run.frames[index]),
                gr.update(value=index + 1),
                (_step_status(flow_run, index)),
            )


def scrub_images(session, step):
    """Show kept step `step` (1-based) of the session's image run."""
    if session is None or session.image_run is None or not session.image_run.frames:
        return gr.update(), "Sample first."
    flow_run = session.image_run
    index = kept_step(step, len(flow_run.frames))
    return view.frame_lanes_image(flow_run.frames[index]), _step_status(flow_run, index)


def export_gif(session):
    if session is None or session.image_run is None or not session.image_run.done:
        raise gr.Error("Sample to the end first.")
    flow_run = session.image_run
    stride = max(1, len(flow_run.frames) // GIF_FRAMES)
    pictures = [view.frame_lanes_image(frame, scale=2) for frame in flow_run.frames[::stride]]
    caption = (
        f"{images.info(flow_run.dataset).title} flow matching: {flow_run.describe()}; lanes: x_t, "
        "x_t + (1 - t) v (x_0 = noise, x_1 = data)"
    )
    path = export_path(f"flow-{flow_run.dataset}-{flow_run.solver}-{flow_run.steps}steps-seed{flow_run.seed}.gif")
    path.write_bytes(gif_of_pictures(pictures, caption))
    return str(path)


def race(dataset, class_choice, evaluations, seed, batch):
    """The same noise through the shipped flow (Euler) and the shipped DDPM (DDIM), equal network evaluations."""
    batch = _batch(batch)
    try:
        result = fm.race_ddim(dataset, evaluations, seed, classes_from_choice(class_choice, batch), batch)
    except (ValueError, TypeError, KeyError, AssetError) as err:
        raise _error(err) from None
    flow_path = [f.x_t for f in result.flow.frames] + [result.flow.final]
    ddim_path = [k.x_t for k in result.ddim.kept] + [result.ddim.final]
    note = (
        f"Both start from the same noise (seed {result.flow.seed}{'' if result.same_start else ' — differ!'}) and "
        f"call their network {result.flow.evaluations} times: DDIM took {result.ddim.seconds:.2f} s, the flow "
        f"{result.flow.seconds:.2f} s. Path straightness (1 = a straight line from noise to image): diffusion "
        f"{flow.straightness(ddim_path):.3f}, flow {flow.straightness(flow_path):.3f}."
    )
    return view.race_image(result), note


def quality_chart():
    table = fm.quality_table()
    if table is None:
        return None, "No quality-vs-cost measurements yet: `python -m bench flow` writes them."
    note = (
        f"Measured on {table.get('device', 'this machine')}; FD of real images: {table['fd_floor']}. {table['note']}."
    )
    return view.image_quality_figure(table, dm.quality_table()), note
