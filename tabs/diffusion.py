"""Diffusion tab: the forward process, the reverse process step by step with every step kept, and a live 2-D model.

Layout and wiring only; handlers are tabs.diffusion_handlers', pictures tabs.diffusion_view's.
"""

from __future__ import annotations

import gradio as gr

from core import diffusion, images, live_slots, toy2d
from tabs import diffusion_handlers as h
from tabs import queueing

TITLE = "Diffusion"
TAB_ID = "diffusion"

# "Show me…" (tabs.links): each sets a few controls and says what to press and what to look for.
SHOW_ME = {
    "Too few steps": (
        "Press **Sample**: three DDIM steps leave noisy, broken shapes (each step jumps hundreds of timesteps on "
        "the model's rough guess). Then try 20 and 50 steps with the same seed.",
        {"sampler": "ddim", "steps": "3", "seed": "0", "class": "mixed"},
    ),
    "Noise in every step": (
        "Press **Sample**, put the step slider at 25 and press **Branch from this step** (DDPM, another seed): "
        "the same half-finished images end differently, because DDPM adds fresh noise at every step.",
        {"sampler": "ddpm", "steps": "50", "seed": "0"},
    ),
    "Two schedules, one image": (
        "At t = 500 the linear schedule has left almost nothing of the image (ᾱ ≈ 0.08) while the cosine "
        "schedule still shows it (ᾱ ≈ 0.49): compare the two rows and the ᾱ_t curves.",
        {"fwd_data": "mnist", "t": "500"},
    ),
}

INTRO = """\
### Diffusion: destroy an image with noise, then learn to undo it one step at a time
**Forward:** mix an image with Gaussian noise, more and more over t = 0 … 999, until nothing of it is left.
**Reverse:** a network looks at a noisy image and guesses the noise in it; removing a little of that guess, step
after step, turns pure noise into a new image. Below, every step is kept: the sample itself (x_t), the network's
guess of the finished image (predicted x0) and its guess of the noise, so you can scrub back and forth, and branch.
"""


def render(demo: gr.Blocks, tab: gr.Tab) -> dict:
    gr.Markdown(INTRO)
    data_choices = [(info.title, key) for key, info in images.DATASETS.items()]
    sampler_choices = [(title, key) for key, title in diffusion.SAMPLERS.items()]

    with gr.Accordion("1 · The forward process: adding noise", open=True):
        with gr.Row():
            fwd_data = gr.Dropdown(
                data_choices
                + [(f"2-D: {title}", f"2d:{key}") for key, title in toy2d.DISTRIBUTIONS.items() if key != "drawn"],
                value="mnist",
                label="Data",
                elem_id="diff-fwd-data",
            )
            fwd_index = gr.Slider(
                0, 999, value=0, step=1, label="Test image (2-D: the sample's seed)", elem_id="diff-fwd-index"
            )
            fwd_t = gr.Slider(0, diffusion.T - 1, value=250, step=1, label="t", elem_id="diff-fwd-t")
        with gr.Row():
            fwd_image = gr.Image(label="x_t under both schedules (same noise)", elem_id="diff-fwd-image", scale=3)
            fwd_plot = gr.Plot(elem_id="diff-schedule", scale=2)

    with gr.Accordion("2 · The reverse process on images, step by step", open=True):
        with gr.Row():
            data = gr.Radio(data_choices, value="mnist", label="Data", elem_id="diff-data")
            class_choice = gr.Dropdown(
                [("any (unconditional)", "any"), ("one of each", "mixed")] + [(str(i), str(i)) for i in range(10)],
                value="mixed",
                label="Class",
                elem_id="diff-class",
            )
            sampler = gr.Dropdown(sampler_choices, value="ddim", label="Sampler", elem_id="diff-sampler")
            steps = gr.Slider(1, diffusion.MAX_STEPS, value=50, step=1, label="Steps", elem_id="diff-steps")
            eta = gr.Slider(
                0, 1, value=0, step=0.05, label="η (DDIM only)", elem_id="diff-eta", elem_classes=["pg-advanced"]
            )
            seed = gr.Number(0, label="Seed", precision=0, elem_id="diff-seed")
            batch = gr.Slider(1, 16, value=16, step=1, label="Images", elem_id="diff-batch")
        with gr.Row():
            run_btn = gr.Button("Sample", variant="primary", elem_id="diff-run")
            play_btn = gr.Button("Play the kept steps", elem_id="diff-play")
            gif_btn = gr.Button("Export the timeline as GIF", elem_id="diff-gif-btn")
        status = gr.Markdown(elem_id="diff-status")
        step = gr.Slider(1, 50, value=1, step=1, label="Kept step (drag to scrub)", elem_id="diff-step")
        lanes = gr.Image(label="x_t · predicted x0 · predicted noise", elem_id="diff-lanes")
        gif_file = gr.File(label="Timeline GIF", elem_id="diff-gif")
        gr.Markdown("**Branch:** continue the run above from the kept step on the slider, with other settings.")
        with gr.Row():
            b_sampler = gr.Dropdown(sampler_choices, value="ddpm", label="Branch sampler", elem_id="diff-b-sampler")
            b_steps = gr.Slider(1, diffusion.MAX_STEPS, value=20, step=1, label="Branch steps", elem_id="diff-b-steps")
            b_eta = gr.Slider(
                0, 1, value=0, step=0.05, label="Branch η", elem_id="diff-b-eta", elem_classes=["pg-advanced"]
            )
            b_seed = gr.Number(1, label="Branch seed", precision=0, elem_id="diff-b-seed")
            branch_btn = gr.Button("Branch from this step", elem_id="diff-branch")
        branch_status = gr.Markdown(elem_id="diff-branch-status")
        branch_image = gr.Image(label="The first run's ending and the branch's", elem_id="diff-branch-image")
        quality_plot = gr.Plot(elem_id="diff-quality")
        quality_note = gr.Markdown(elem_id="diff-quality-note")

    with gr.Accordion("3 · In 2-D: particles, trails and the learned score field", open=True):
        with gr.Row():
            d2_data = gr.Dropdown(
                [(t, k) for k, t in toy2d.DISTRIBUTIONS.items() if k != "drawn"],
                value="8gaussians",
                label="Data",
                elem_id="diff2d-data",
            )
            d2_schedule = gr.Radio(
                list(diffusion.SCHEDULES), value="cosine", label="Schedule", elem_id="diff2d-schedule"
            )
            d2_iterations = gr.Slider(500, 10_000, value=3_000, step=500, label="Iterations", elem_id="diff2d-its")
            d2_seed = gr.Number(0, label="Seed", precision=0, elem_id="diff2d-seed")
            d2_train = gr.Button("Train", variant="primary", elem_id="diff2d-train")
            d2_stop = gr.Button("Stop", elem_id="diff2d-stop")
        with gr.Row():
            d2_sampler = gr.Dropdown(sampler_choices, value="ddpm", label="Sampler", elem_id="diff2d-sampler")
            d2_steps = gr.Slider(1, 1000, value=100, step=1, label="Steps", elem_id="diff2d-steps")
            d2_eta = gr.Slider(
                0, 1, value=0, step=0.05, label="η (DDIM only)", elem_id="diff2d-eta", elem_classes=["pg-advanced"]
            )
            d2_sample_seed = gr.Number(0, label="Sampling seed", precision=0, elem_id="diff2d-sample-seed")
            d2_field = gr.Checkbox(True, label="Show the score field", elem_id="diff2d-field")
            d2_sample = gr.Button("Sample", variant="primary", elem_id="diff2d-sample")
        d2_status = gr.Markdown(elem_id="diff2d-status")
        d2_step = gr.Slider(0, 100, value=100, step=1, label="Step (0: pure noise)", elem_id="diff2d-step")
        with gr.Row():
            d2_plot = gr.Plot(elem_id="diff2d-plot", scale=3)
            d2_loss = gr.Plot(elem_id="diff2d-loss", scale=2)

    session = gr.State(None, time_to_live=3600, delete_callback=h.close_session)

    fwd_inputs = [fwd_data, fwd_index, fwd_t]
    for control in (fwd_data, fwd_index, fwd_t):
        control.change(h.forward_view, fwd_inputs, [fwd_image, fwd_plot], api_visibility="private")
    tab.select(h.forward_view, fwd_inputs, [fwd_image, fwd_plot], api_name="diffusion_forward")
    tab.select(h.quality_chart, None, [quality_plot, quality_note], api_visibility="private")

    run_btn.click(
        h.sample_images,
        [session, data, class_choice, sampler, steps, eta, seed, batch],
        [session, lanes, step, status],
        api_name="diffusion_sample",
        **queueing.SAMPLING,
    )
    step.input(h.scrub, [session, step], [lanes, status], api_name="diffusion_scrub", trigger_mode="always_last")
    play_btn.click(h.play, [session, step], [lanes, step, status], api_name="diffusion_play")
    branch_btn.click(
        h.branch,
        [session, step, b_sampler, b_steps, b_eta, b_seed],
        [session, branch_image, branch_status],
        api_name="diffusion_branch",
        **queueing.SAMPLING,
    )
    gif_btn.click(h.export_gif, session, gif_file, api_name="diffusion_gif")

    d2_train.click(
        h.train_2d,
        [session, d2_data, d2_schedule, d2_iterations, d2_seed],
        [session, d2_loss, d2_status],
        api_name="diffusion2d_train",
        concurrency_limit=live_slots.HANDLERS,
        concurrency_id="live-training",
    )
    d2_stop.click(h.stop_2d, session, None, api_name="diffusion2d_stop", concurrency_limit=None)
    d2_sample.click(
        h.sample_2d,
        [session, d2_sampler, d2_steps, d2_eta, d2_sample_seed, d2_field],
        [session, d2_plot, d2_step, d2_status],
        api_name="diffusion2d_sample",
    )
    d2_step.input(h.scrub_2d, [session, d2_step, d2_field], [d2_plot, d2_status], api_name="diffusion2d_scrub")
    d2_field.input(h.scrub_2d, [session, d2_step, d2_field], [d2_plot, d2_status], api_visibility="private")
    return {
        "fwd_data": fwd_data,
        "fwd_image": fwd_index,
        "t": fwd_t,
        "data": data,
        "class": class_choice,
        "sampler": sampler,
        "steps": steps,
        "eta": eta,
        "seed": seed,
        "images": batch,
        "d2_data": d2_data,
        "schedule": d2_schedule,
        "d2_iterations": d2_iterations,
        "d2_seed": d2_seed,
        "d2_sampler": d2_sampler,
        "d2_steps": d2_steps,
    }


CSS = ""
