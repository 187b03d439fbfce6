"""The guidance tab's compute (core.guidance, core.guidance_run) on a TinySD-shaped pipeline with random weights.

Random weights are fine here: these tests check the plumbing (what guidance computes, which code
path loads a model, seeds, samplers, the per-step recording), not image quality; the shipped
model's quality is checked against its card in test_tinysd.py.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import torch

from core import guidance as g
from core import guidance_run as gr_run
from core import tinysd


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A TinySD-layout pipeline folder with random weights (built from the same parts as the shipped one)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-pipeline")
    pipe = tinysd_pipeline()
    pipe.save_pretrained(path)
    return path


def tinysd_pipeline():
    from diffusers import StableDiffusionPipeline

    return StableDiffusionPipeline(
        vae=tinysd.build_vae(),
        text_encoder=tinysd.build_text_encoder(),
        tokenizer=tinysd.build_tokenizer(),
        unet=tinysd.build_unet(),
        scheduler=tinysd.build_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


@pytest.fixture(scope="module")
def loaded(folder) -> g.Loaded:
    loaded = g.load(g.LOCAL, str(folder))
    # a local folder gets SD's sizes; this one is TinySD-shaped
    return replace(loaded, choice=replace(loaded.choice, sizes=(32,), steps=20, scale=5.0))


SETTINGS = g.Settings(prompt="a handwritten seven", scale=5.0, steps=6, batch=2)


def test_guidance_at_scale_one_is_the_conditional_prediction():
    uncond, cond = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(gr_run.combine(uncond, cond, 1.0), cond)
    torch.testing.assert_close(gr_run.combine(uncond, cond, 0.0), uncond)
    torch.testing.assert_close(gr_run.combine(uncond, cond, 3.0), uncond + 3 * (cond - uncond))


def test_guidance_rescale_on_a_known_case():
    cond = torch.tensor([[-1.0, 1.0, -1.0, 1.0]])  # std s; uncond = 0, so guided = 3 cond with std 3 s
    uncond = torch.zeros_like(cond)
    torch.testing.assert_close(gr_run.combine(uncond, cond, 3.0, rescale=1.0), cond)  # back to cond's spread
    torch.testing.assert_close(gr_run.combine(uncond, cond, 3.0, rescale=0.5), 2 * cond)  # halfway: (3 + 1) / 2
    torch.testing.assert_close(gr_run.combine(uncond, cond, 3.0, rescale=0.0), 3 * cond)


def test_rescale_matches_diffusers():
    from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import rescale_noise_cfg

    uncond, cond = torch.randn(3, 4, 8, 8), torch.randn(3, 4, 8, 8)
    ours = gr_run.combine(uncond, cond, 7.5, rescale=0.7)
    torch.testing.assert_close(ours, rescale_noise_cfg(uncond + 7.5 * (cond - uncond), cond, guidance_rescale=0.7))


@pytest.mark.parametrize("name", list(g.SCHEDULERS))
def test_sampler_choice_round_trips(name):
    scheduler = g.make_scheduler(name, tinysd.build_scheduler().config)
    assert g.scheduler_name(scheduler) == name
    assert scheduler.config.num_train_timesteps == 1000 and scheduler.config.beta_schedule == "scaled_linear"


def test_lcm_only_for_few_step_models():
    assert "LCM" not in g.schedulers_for(g.MODELS["tinysd"]) and "LCM" not in g.schedulers_for(g.MODELS["sd15"])
    assert "LCM" in g.schedulers_for(g.MODELS["sd-turbo"])


def test_tinysd_and_real_sd_load_through_the_same_call(monkeypatch, folder):
    """The embedded model and a Hub model both go through StableDiffusionPipeline.from_pretrained."""
    from diffusers import StableDiffusionPipeline

    calls = []
    real = StableDiffusionPipeline.from_pretrained.__func__

    def recording(cls, source, **kwargs):
        calls.append(source)
        return real(cls, folder, **kwargs)  # the Hub is off in tests: serve the local tiny folder

    monkeypatch.setattr(StableDiffusionPipeline, "from_pretrained", classmethod(recording))
    monkeypatch.setattr(g, "hub_status", lambda: type("S", (), {"reachable": True})())
    g._load_cached.cache_clear()
    try:
        hub = g.load("sd15")
        embedded = g.load("tinysd")
    finally:
        g._load_cached.cache_clear()
    assert calls == [g.MODELS["sd15"].source, str(g.TINYSD_DIR)]
    assert type(hub.pipe) is type(embedded.pipe) is StableDiffusionPipeline


def test_unreachable_hub_and_bad_folders_are_explained(monkeypatch, tmp_path):
    monkeypatch.setattr(g, "hub_status", lambda: type("S", (), {"reachable": False})())
    with pytest.raises(g.ModelUnavailable, match="cannot reach"):
        g.load("sd-turbo")
    with pytest.raises(g.ModelUnavailable, match=r"no model_index\.json"):
        g.load(g.LOCAL, str(tmp_path))
    with pytest.raises(g.ModelUnavailable, match="Unknown model"):
        g.load("dall-e")
    monkeypatch.setenv(g.LOCAL_MODELS_ENV, "0")
    with pytest.raises(g.ModelUnavailable, match="turned off"):
        g.load(g.LOCAL, str(tmp_path))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"scale": float("nan")}, "finite"),
        ({"scale": 99}, "between 0 and"),
        ({"steps": 0}, "between 1 and"),
        ({"scheduler": "LCM"}, "does not apply"),
        ({"size": 512}, "32 x 32"),
        ({"batch": 9}, "between 1 and"),
        ({"prompt": "x" * 10_000}, "10,000 characters"),
        ({"prompt": 5}, "must be text"),
        ({"guidance_until": -0.1}, "between 0 and 1"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_settings_get_a_sentence(loaded, change, message):
    with pytest.raises(ValueError, match=message):
        g.check(replace(SETTINGS, **change), loaded)


def test_recorded_guided_prediction_is_what_the_sampler_followed(loaded):
    """Replaying DDIM (deterministic) with the recorded guided predictions reproduces every next latent."""
    run = gr_run.generate(loaded, SETTINGS)
    assert run.done and run.images.shape == (2, 32, 32, 3) and len(run.steps) == 6
    scheduler = g.make_scheduler("DDIM", loaded.pipe.scheduler.config)
    scheduler.set_timesteps(6)
    for step, following in zip(run.steps, run.steps[1:], strict=False):
        assert step.uncond is not None
        replayed = scheduler.step(step.guided, int(step.timestep), step.x_t).prev_sample
        torch.testing.assert_close(replayed, following.x_t, atol=1e-4, rtol=1e-4)


def test_guidance_can_stop_after_a_share_of_the_steps(loaded):
    run = gr_run.generate(loaded, replace(SETTINGS, steps=10, guidance_until=0.3))
    assert [s.uncond is not None for s in run.steps] == [True] * 3 + [False] * 7
    unguided = gr_run.generate(loaded, replace(SETTINGS, scale=1.0))
    assert all(s.uncond is None for s in unguided.steps)
    assert all(torch.equal(s.guided, s.cond) for s in unguided.steps)


def test_image_i_of_a_batch_is_image_0_of_seed_plus_i(loaded):
    batch = gr_run.generate(loaded, replace(SETTINGS, seed=4, batch=3), previews=False)
    alone = gr_run.generate(loaded, replace(SETTINGS, seed=6, batch=1), previews=False)
    assert abs(batch.images[2].astype(int) - alone.images[0].astype(int)).max() <= 2  # float rounding only
    assert not (batch.images[0] == batch.images[1]).all()


def test_every_sampler_runs_and_previews_every_step(loaded):
    for name in g.schedulers_for(loaded.choice):
        run = gr_run.generate(loaded, replace(SETTINGS, scheduler=name, batch=1))
        assert len(run.steps) == SETTINGS.steps and all(s.preview is not None for s in run.steps), name
        assert 0 < run.steps[0].abar < run.steps[-1].abar <= 1


def test_sweep_keeps_each_seed_down_its_column(loaded):
    sweep = gr_run.sweep(loaded, SETTINGS, [7.5, 1, 3], columns=2, schedulers=["DDIM", "Euler"])
    assert sweep.scales == [1.0, 3.0, 7.5] and sweep.seeds == [0, 1]
    assert set(sweep.cells) == {(s, c) for s in ("DDIM", "Euler") for c in (1.0, 3.0, 7.5)}
    single = gr_run.generate(loaded, replace(SETTINGS, scale=3.0, seed=1, batch=1), previews=False)
    difference = sweep.cells[("DDIM", 3.0)][1].astype(int) - single.images[0].astype(int)
    assert abs(difference).max() <= 2, abs(difference).max()  # batch size changes float rounding only
    with pytest.raises(ValueError, match="at most"):
        gr_run.sweep(loaded, SETTINGS, list(range(10)), columns=8)


def test_runs_in_parallel_threads_record_only_their_own_steps(loaded):
    results = {}

    def work(steps):
        results[steps] = gr_run.generate(loaded, replace(SETTINGS, steps=steps, batch=1))

    threads = [threading.Thread(target=work, args=(n,)) for n in (5, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results[5].steps) == 5 and len(results[9].steps) == 9


def test_long_and_empty_prompts_get_notices(loaded):
    long_prompt = " ".join(["seven"] * 60)
    notices = gr_run.generate(loaded, replace(SETTINGS, prompt=long_prompt, steps=2)).notices
    assert any("reads only the first 32" in n for n in notices)
    notices = gr_run.generate(loaded, replace(SETTINGS, prompt="", steps=2)).notices
    assert any("unconditional" in n for n in notices)


def test_out_of_memory_is_a_message_and_the_next_request_runs(monkeypatch):
    """An out-of-memory error (simulated: no GPU here) reaches the user as advice, and nothing stays broken."""
    import gradio as gr

    from tabs import guidance_handlers as h

    real_call = gr_run.call_pipeline
    calls = []

    def runs_out_once(pipe, **kwargs):
        calls.append(kwargs["num_inference_steps"])
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_call(pipe, **kwargs)

    monkeypatch.setattr(gr_run, "call_pipeline", runs_out_once)
    request = ("tinysd", "", "a handwritten seven", "", 5.0, 0.0, 4, "DDIM", 0, 2, 0, 1.0)
    with pytest.raises(gr.Error, match="ran out of memory: try fewer images"):
        list(h.generate(*request))
    *_, (run, grid, strip, _, status) = h.generate(*request)
    assert run.done and grid is not None and status.startswith("Done")
    assert calls == [4, 4]
