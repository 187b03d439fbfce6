"""Flow matching tab: a velocity field trained live in 2-D, particles flowing along it, couplings, and flow vs diffusion.

Layout and wiring only; handlers are tabs.flow_handlers', pictures tabs.flow_view's and tabs.toy_views'.
"""

from __future__ import annotations

import gradio as gr

from core import flow, flow_models, images, live_slots, toy2d
from tabs import flow_handlers as h
from tabs import flow_image_handlers as ih
from tabs import queueing

TITLE = "Flow matching"
TAB_ID = "flow"

# "Show me…" (tabs.links): each sets a few controls and says what to press and what to look for.
SHOW_ME = {
    "OT straightens paths": (
        "Press **Train**, then **Sample**: with minibatch optimal-transport pairs the particles travel almost "
        "straight lines (straightness close to 1), so 3 Euler steps already end near the data. Compare with "
        "*Random pairs bend paths*.",
        {"data": "8gaussians", "coupling": "ot", "solver": "euler", "steps": "3"},
    ),
    "Random pairs bend paths": (
        "Press **Train**, then **Sample**: with random pairs the learned field bends, and 3 Euler steps cut its "
        "corners (lower straightness, higher MMD). Raise the steps to 50 and the particles arrive.",
        {"data": "8gaussians", "coupling": "independent", "solver": "euler", "steps": "3"},
    ),
    "Flow and diffusion at 5 evaluations": (
        "Press **Race** (section 3): the same noise through the image flow and the DDPM, 5 network calls each.",
        {"img_data": "mnist", "race_evaluations": "5", "img_seed": "0"},
    ),
}

INTRO = """\
### Flow matching: learn a velocity field that carries noise to data
Conventions here: **x₀ is noise, x₁ is data**, and time runs from t = 0 to t = 1. Training picks a noise point and a data
point, a time t between them on the straight line, and teaches a network the velocity x₁ − x₀ at that spot. Sampling
follows the learned field from fresh noise with an ODE solver. Which noise goes with which data point is the
**coupling**: random pairs give crossing paths and a bent field; optimal-transport pairs (within each batch) and a
*reflow* of a trained flow give straighter paths, which few solver steps can follow.
"""


def render(demo: gr.Blocks, tab: gr.Tab) -> dict:
    gr.Markdown(INTRO)
    with gr.Accordion("1 · In 2-D: a flow trained live, its particles and its field", open=True):
        with gr.Row():
            dataset = gr.Dropdown(
                [(t, k) for k, t in toy2d.DISTRIBUTIONS.items() if k != "drawn"],
                value="8gaussians",
                label="Data",
                elem_id="flow-data",
            )
            coupling = gr.Radio(
                [(t, k) for k, t in flow.COUPLINGS.items()],
                value="independent",
                label="Coupling",
                elem_id="flow-coupling",
            )
            iterations = gr.Slider(500, 10_000, value=2_000, step=500, label="Iterations", elem_id="flow-its")
            seed = gr.Number(0, label="Seed", precision=0, elem_id="flow-seed")
        with gr.Row():
            train_btn = gr.Button("Train", variant="primary", elem_id="flow-train")
            stop_btn = gr.Button("Stop", elem_id="flow-stop")
        train_status = gr.Markdown(elem_id="flow-train-status")
        with gr.Row():
            solver = gr.Dropdown(
                [(t, k) for k, t in flow.SOLVERS.items()], value="euler", label="Solver", elem_id="flow-solver"
            )
            steps = gr.Slider(1, 200, value=20, step=1, label="Steps", elem_id="flow-steps")
            sample_seed = gr.Number(0, label="Sampling seed", precision=0, elem_id="flow-sample-seed")
            show_field = gr.Checkbox(True, label="Show the velocity field", elem_id="flow-field")
            sample_btn = gr.Button("Sample", variant="primary", elem_id="flow-sample")
        status = gr.Markdown(elem_id="flow-status")
        time_step = gr.Slider(0, 20, value=20, step=1, label="Time step (0: noise, last: data)", elem_id="flow-time")
        with gr.Row():
            particles = gr.Plot(elem_id="flow-plot", scale=3)
            loss = gr.Plot(elem_id="flow-loss", scale=2)
        densities = gr.Plot(elem_id="flow-densities")
        with gr.Row():
            solvers_btn = gr.Button(
                "Measure: quality against steps for Euler, midpoint and RK4", elem_id="flow-solvers-btn"
            )
        solvers_plot = gr.Plot(elem_id="flow-solvers")

    with gr.Accordion("2 · Flow vs diffusion in 2-D, from the same noise", open=True):
        gr.Markdown(
            "#### Flow vs diffusion from the same noise\nA 2-D diffusion model (the Diffusion tab's) is trained here on the "
            "same data and seed; both then start from identical noise: the diffusion model follows its probability-flow "
            "ODE (DDIM with η = 0), the flow its own field, with the same number of steps."
        )
        with gr.Row():
            compare_steps = gr.Slider(1, 200, value=10, step=1, label="Steps for both", elem_id="flow-compare-steps")
            compare_btn = gr.Button("Compare", variant="primary", elem_id="flow-compare")
        compare_note = gr.Markdown(elem_id="flow-compare-note")
        with gr.Row():
            compare_diffusion = gr.Plot(elem_id="flow-compare-diffusion")
            compare_flow = gr.Plot(elem_id="flow-compare-flow")
        compare_curves = gr.Plot(elem_id="flow-compare-curves")

    with gr.Accordion("3 · Images: the shipped flows on MNIST and Fashion-MNIST, and a race against DDIM", open=True):
        gr.Markdown(
            "The flow here is the diffusion tab's network (same size, same data, same training steps), trained to "
            "predict the velocity x₁ − x₀ instead of the noise. Left lane: the samples x_t as the solver carries them "
            "from noise (t = 0) to images (t = 1); right lane: where the field points, x_t + (1 − t)·v, if followed "
            "in a straight line to the end."
        )
        with gr.Row():
            img_data = gr.Radio(
                [(info.title, key) for key, info in images.DATASETS.items()],
                value="mnist",
                label="Data",
                elem_id="flow-img-data",
            )
            img_class = gr.Dropdown(
                [("any (unconditional)", "any"), ("one of each", "mixed")] + [(str(i), str(i)) for i in range(10)],
                value="mixed",
                label="Class",
                elem_id="flow-img-class",
            )
            img_solver = gr.Dropdown(
                [(t, k) for k, t in flow.SOLVERS.items()], value="euler", label="Solver", elem_id="flow-img-solver"
            )
            img_steps = gr.Slider(1, flow_models.MAX_STEPS, value=20, step=1, label="Steps", elem_id="flow-img-steps")
            img_seed = gr.Number(0, label="Seed", precision=0, elem_id="flow-img-seed")
            img_batch = gr.Slider(1, 16, value=16, step=1, label="Images", elem_id="flow-img-batch")
        with gr.Row():
            img_run = gr.Button("Sample", variant="primary", elem_id="flow-img-run")
            img_gif_btn = gr.Button("Export the run as GIF", elem_id="flow-img-gif-btn")
        img_status = gr.Markdown(elem_id="flow-img-status")
        img_step = gr.Slider(1, 20, value=1, step=1, label="Step (drag to scrub)", elem_id="flow-img-step")
        img_lanes = gr.Image(label="x_t · x_t + (1 − t) v", elem_id="flow-img-lanes")
        img_gif = gr.File(label="Run GIF", elem_id="flow-img-gif")
        gr.Markdown(
            "**Race:** the same noise (the seed above) through this flow with Euler and through the diffusion "
            "tab's DDPM with DDIM, each calling its network the same number of times."
        )
        with gr.Row():
            race_evaluations = gr.Slider(
                1, 100, value=10, step=1, label="Network evaluations for both", elem_id="flow-race-evals"
            )
            race_btn = gr.Button("Race", variant="primary", elem_id="flow-race")
        race_note = gr.Markdown(elem_id="flow-race-note")
        race_picture = gr.Image(label="Endings, and the first images' paths", elem_id="flow-race-image")
        img_quality = gr.Plot(elem_id="flow-img-quality")
        img_quality_note = gr.Markdown(elem_id="flow-img-quality-note")

    session = gr.State(None, time_to_live=3600, delete_callback=h.close_session)
    train_btn.click(
        h.train,
        [session, dataset, coupling, iterations, seed],
        [session, loss, train_status],
        api_name="flow_train",
        concurrency_limit=live_slots.HANDLERS,
        concurrency_id="live-training",
    )
    stop_btn.click(h.stop, session, None, api_name="flow_stop", concurrency_limit=None)
    sample_btn.click(
        h.sample,
        [session, solver, steps, sample_seed, show_field],
        [session, particles, time_step, status, densities],
        api_name="flow_sample",
    )
    time_step.input(h.scrub, [session, time_step, show_field], [particles, status], api_name="flow_scrub")
    show_field.input(h.scrub, [session, time_step, show_field], [particles, status], api_visibility="private")
    solvers_btn.click(h.solvers_chart, [session, sample_seed], solvers_plot, api_name="flow_solvers")
    img_run.click(
        ih.sample_images,
        [session, img_data, img_class, img_solver, img_steps, img_seed, img_batch],
        [session, img_lanes, img_step, img_status],
        api_name="flow_images_sample",
        **queueing.SAMPLING,
    )
    img_step.input(
        ih.scrub_images,
        [session, img_step],
        [img_lanes, img_status],
        api_name="flow_images_scrub",
        trigger_mode="always_last",
    )
    img_gif_btn.click(ih.export_gif, session, img_gif, api_name="flow_images_gif")
    race_btn.click(
        ih.race,
        [img_data, img_class, race_evaluations, img_seed, img_batch],
        [race_picture, race_note],
        api_name="flow_images_race",
        **queueing.SAMPLING,
    )
    tab.select(ih.quality_chart, None, [img_quality, img_quality_note], api_visibility="private")
    compare_btn.click(
        h.compare,
        [session, compare_steps, sample_seed],
        [session, compare_diffusion, compare_flow, compare_curves, compare_note],
        api_name="flow_compare",
    )
    return {
        "data": dataset,
        "coupling": coupling,
        "iterations": iterations,
        "seed": seed,
        "solver": solver,
        "steps": steps,
        "sample_seed": sample_seed,
        "compare_steps": compare_steps,
        "img_data": img_data,
        "img_class": img_class,
        "img_solver": img_solver,
        "img_steps": img_steps,
        "img_seed": img_seed,
        "images": img_batch,
        "race_evaluations": race_evaluations,
    }


CSS = ""
