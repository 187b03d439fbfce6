"""core.flow_models (the image flows: runs kept frame by frame, the race against DDIM) and the flow tab's
image handlers (tabs.flow_image_handlers), driven directly without a server.

The shipped checkpoints are not needed: narrow untrained UNets with a seeded output layer stand in
for the flow and the DDPM (the run logic does not depend on how good the images are).
"""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest
import torch

from core import diffusion, flow, images, seeding
from core import diffusion_models as dm
from core import flow_models as fm
from core.denoisers import NULL_CLASS, DenoiserConfig, UNet
from tabs import exports
from tabs import flow_image_handlers as handlers


def small_unet(seed: int) -> UNet:
    unet = UNet(DenoiserConfig(channels=(8, 8, 8), embedding=32, groups=4)).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # the fresh output layer is zero: make it say something that depends on x, t, class
        unet.conv_out.weight.copy_(0.1 * torch.randn(unet.conv_out.weight.shape, generator=generator))
    return unet


@pytest.fixture(scope="module")
def model() -> fm.ShippedFlow:
    return fm.ShippedFlow(key="test", dataset="mnist", unet=small_unet(0), card={})


@pytest.fixture(autouse=True)
def shipped(monkeypatch, model):
    ddpm = dm.ShippedDDPM("test", "mnist", small_unet(1), diffusion.make_schedule("cosine"), {})
    # the stand-ins still refuse an unknown data set, as the real loaders do
    monkeypatch.setattr(fm, "shipped", lambda dataset: (images.info(dataset), model)[1])
    monkeypatch.setattr(dm, "shipped", lambda dataset: (images.info(dataset), ddpm)[1])


@pytest.fixture(autouse=True)
def exports_in_tmp(monkeypatch, tmp_path):
    monkeypatch.setattr(exports, "EXPORT_DIR", tmp_path / "exports")


@pytest.fixture(scope="module")
def ten_steps(model) -> fm.FlowRun:
    """A finished 10-step Euler run of 3 images (classes 1, 7 and any), seed 0."""
    return fm.finished(fm.run(model, "euler", 10, 0, [1, 7, -1], 3))


# --- the solver step the runs use ---


@pytest.mark.parametrize("solver", list(flow.SOLVERS))
def test_advance_returns_the_next_point_and_the_slope_at_the_start(solver):
    def field(x, t):
        return x * t + 1.0

    x = torch.tensor([[0.5, -1.0]])
    x_next, slope = flow.advance(field, solver, x, 0.0, 0.1)
    torch.testing.assert_close(slope, field(x, 0.0))
    torch.testing.assert_close(x_next, flow.integrate(field, x, solver, 10)[1])  # integrate's first of 10 steps


# --- runs ---


def test_a_run_keeps_every_step_from_the_seeds_noise(ten_steps):
    assert ten_steps.done and len(ten_steps.frames) == 10
    assert [round(f.t, 6) for f in ten_steps.frames] == [round(i / 10, 6) for i in range(10)]
    torch.testing.assert_close(ten_steps.frames[0].x_t, seeding.initial_noise(0, (3, 1, 28, 28)))
    assert ten_steps.final.shape == (3, 1, 28, 28) and ten_steps.final.abs().max() <= 1


def test_each_frame_shows_the_straight_line_guess_x_t_plus_1_minus_t_v(model, ten_steps):
    frame = ten_steps.frames[4]
    v = fm.velocity_field(model.unet, ten_steps.labels)(frame.x_t, frame.t)
    torch.testing.assert_close(frame.x1, frame.x_t + (1 - frame.t) * v)


def test_euler_frames_follow_each_other_by_one_step_of_the_field(model, ten_steps):
    v = fm.velocity_field(model.unet, ten_steps.labels)
    a, b = ten_steps.frames[2], ten_steps.frames[3]
    torch.testing.assert_close(b.x_t, a.x_t + 0.1 * v(a.x_t, a.t))


def test_run_yields_the_growing_run_then_the_finished_one(model):
    lengths = [(len(r.frames), r.done) for r in fm.run(model, "midpoint", 4, 0, None, 2)]
    assert lengths == [(1, False), (2, False), (3, False), (4, True)]


def test_a_paused_run_leaves_gradients_on_in_the_thread_that_drove_it(model):
    """A server thread resumes many generators; one paused inside no_grad would break the next trainer there."""
    runner = fm.run(model, "euler", 3, 0, None, 1)
    next(runner)
    assert torch.is_grad_enabled()
    runner.close()


def test_run_gives_each_image_its_class(ten_steps):
    assert ten_steps.labels.tolist() == [1, 7, NULL_CLASS]


def test_the_same_seed_gives_the_same_images_and_another_seed_others(model, ten_steps):
    again = fm.finished(fm.run(model, "euler", 10, 0, [1, 7, -1], 3))
    other = fm.finished(fm.run(model, "euler", 10, 1, [1, 7, -1], 3))
    torch.testing.assert_close(again.final, ten_steps.final)
    assert not torch.allclose(other.final, ten_steps.final)


@pytest.mark.parametrize("solver", list(flow.SOLVERS))
def test_sample_matches_the_final_of_a_run(model, solver):
    labels = torch.tensor([2, NULL_CLASS])
    run = fm.finished(fm.run(model, solver, 3, 5, [2, -1], 2))
    torch.testing.assert_close(fm.sample(model, solver, 3, 5, labels), run.final)


def test_describe_counts_network_evaluations(model):
    run = fm.finished(fm.run(model, "rk4", 2, 3, None, 1))
    assert run.evaluations == 8
    assert run.describe() == "Runge-Kutta 4, 2 steps (8 network evaluations), seed 3"


@pytest.mark.parametrize(
    "settings",
    [
        ("heun", 10, 0, None, 4),
        ("euler", 0, 0, None, 4),
        ("euler", fm.MAX_STEPS + 1, 0, None, 4),
        ("euler", 2.5, 0, None, 4),
        ("euler", 10, -1, None, 4),
        ("euler", 10, 0, None, 17),
        ("euler", 10, 0, [11], 1),
    ],
)
def test_run_refuses_bad_settings_before_its_first_frame(model, settings):
    with pytest.raises(ValueError):
        next(fm.run(model, *settings))


# --- the race against DDIM ---


def test_a_race_starts_both_from_the_same_noise_with_equal_evaluations():
    race = fm.race_ddim("mnist", 6, 4, [3, 3], 2)
    assert race.same_start
    assert race.flow.evaluations == race.ddim.steps == 6 and race.flow.solver == "euler" and race.ddim.sampler == "ddim"
    assert race.ddim.eta == 0.0
    assert race.flow.labels.tolist() == race.ddim.labels.tolist() == [3, 3]


# --- the tab's handlers ---


def test_sampling_streams_pictures_and_ends_done():
    frames = list(handlers.sample_images(None, "mnist", "mixed", "euler", 8, 0, 4))
    session, picture, slider, status = frames[-1]
    assert isinstance(picture, np.ndarray) and picture.dtype == np.uint8
    assert status.startswith("Done: Euler, 8 steps (8 network evaluations), seed 0")
    assert session.image_run.done and session.image_run.labels.tolist() == [0, 1, 2, 3]
    assert frames[0][3].startswith("Step 1 of 8: t = 0.00")


def test_scrub_shows_the_chosen_step_and_clamps():
    session = list(handlers.sample_images(None, "mnist", "3", "euler", 5, 0, 2))[-1][0]
    picture, status = handlers.scrub_images(session, 3)
    assert isinstance(picture, np.ndarray) and status.startswith("Step 3 of 5: t = 0.40")
    _, status = handlers.scrub_images(session, 99)
    assert status.startswith("Step 5 of 5")


def test_scrub_before_sampling_says_what_to_do():
    assert handlers.scrub_images(None, 1)[1] == "Sample first."


@pytest.mark.parametrize(
    "settings",
    [
        ("cifar", "mixed", "euler", 5, 0, 4),
        ("mnist", "12", "euler", 5, 0, 4),
        ("mnist", "mixed", "euler", 0, 0, 4),
        ("mnist", "mixed", "euler", 5, float("nan"), 4),
        ("mnist", "mixed", "euler", 5, 0, 0),
        ("mnist", "mixed", "x", 5, 0, 4),
    ],
)
def test_sampling_refuses_bad_input_with_a_message(settings):
    with pytest.raises(gr.Error):
        next(handlers.sample_images(None, *settings))


def test_export_gif_is_named_after_the_run_and_refused_before_one():
    with pytest.raises(gr.Error):
        handlers.export_gif(None)
    session = list(handlers.sample_images(None, "mnist", "any", "midpoint", 3, 2, 2))[-1][0]
    path = handlers.export_gif(session)
    assert path.endswith("flow-mnist-midpoint-3steps-seed2.gif")
    with open(path, "rb") as gif:
        assert gif.read(6) == b"GIF89a"


def test_race_handler_shows_both_and_says_they_start_from_the_same_noise():
    picture, note = handlers.race("mnist", "mixed", 5, 0, 4)
    assert isinstance(picture, np.ndarray) and picture.ndim == 2
    assert "same noise (seed 0)" in note and "differ" not in note and "5 times" in note
    assert "straightness" in note


def test_race_refuses_a_bad_evaluation_count():
    with pytest.raises(gr.Error):
        handlers.race("mnist", "mixed", 0, 0, 4)


def test_quality_chart_reads_the_benchmark_table_or_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.setattr(fm, "QUALITY_TABLE", tmp_path / "missing.json")
    figure, note = handlers.quality_chart()
    assert figure is None and "python -m bench flow" in note
