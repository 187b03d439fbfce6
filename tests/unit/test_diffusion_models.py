"""core.denoisers and core.diffusion_models: the class-conditional UNet, labels, timelines of every step, branches.

The shipped checkpoint is not needed: a narrow, untrained UNet stands in for it, with its output layer
(zero at initialisation: "predict no noise") set to seeded random weights so predictions vary with
the input, the timestep and the class. The timeline logic does not depend on how well it denoises.
"""

from __future__ import annotations

import math

import pytest
import torch

from core import diffusion, seeding
from core import diffusion_models as dm
from core.denoisers import NULL_CLASS, DenoiserConfig, UNet, drop_labels, labels_for, timestep_embedding

SMALL = DenoiserConfig(channels=(8, 8, 8), embedding=32, groups=4)


def small_unet() -> UNet:
    """A narrow UNet whose output layer is seeded noise instead of zeros."""
    unet = UNet(SMALL).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        unet.conv_out.weight.copy_(0.1 * torch.randn(unet.conv_out.weight.shape, generator=generator))
        unet.conv_out.bias.copy_(0.1 * torch.randn(unet.conv_out.bias.shape, generator=generator))
    return unet


@pytest.fixture(scope="module")
def model() -> dm.ShippedDDPM:
    return dm.ShippedDDPM(
        key="test", dataset="mnist", unet=small_unet(), schedule=diffusion.make_schedule("cosine"), card={}
    )


def finished(runner) -> dm.Timeline:
    """Drain a dm.run generator; its last timeline."""
    *_, timeline = runner  # the same Timeline object every time; the last yield is the finished run
    assert timeline.done
    return timeline


@pytest.fixture(scope="module")
def ten_steps(model) -> dm.Timeline:
    """A finished 10-step DDIM run of 2 unconditional images, seed 0."""
    return finished(dm.run(model, "ddim", 10, 0.0, 0, None, 2))


# --- the UNet ---


def test_unet_output_has_the_input_shape():
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        out = small_unet()(x, 500, class_labels=torch.tensor([0, 1, NULL_CLASS]))
    assert out.shape == x.shape


def test_unet_takes_an_int_timestep_or_a_tensor_of_them():
    unet, x, labels = small_unet(), torch.randn(3, 1, 28, 28), torch.full((3,), NULL_CLASS)
    with torch.no_grad():
        from_int = unet(x, 400, class_labels=labels)
        from_scalar = unet(x, torch.tensor(400), class_labels=labels)
        per_image = unet(x, torch.tensor([400, 400, 900]), class_labels=labels)
    torch.testing.assert_close(from_int, from_scalar)
    torch.testing.assert_close(per_image[:2], from_int[:2])
    assert not torch.allclose(per_image[2], from_int[2])  # another t, another prediction


def test_unet_prediction_depends_on_the_class():
    unet, x = small_unet(), torch.randn(1, 1, 28, 28).expand(3, 1, 28, 28)
    with torch.no_grad():
        out = unet(x, 300, class_labels=torch.tensor([3, 7, NULL_CLASS]))
    assert not torch.allclose(out[0], out[1])
    assert not torch.allclose(out[0], out[2])


def test_a_fresh_unet_predicts_zero_noise():
    with torch.no_grad():
        out = UNet(SMALL)(torch.randn(2, 1, 28, 28), 999, class_labels=torch.tensor([0, NULL_CLASS]))
    assert torch.count_nonzero(out) == 0


# --- the timestep embedding ---


def test_timestep_embedding_has_one_row_of_dim_per_timestep():
    emb = timestep_embedding(torch.tensor([0, 10, 999]), 32)
    assert emb.shape == (3, 32)
    assert emb.abs().max() <= 1.0  # sines and cosines


def test_timestep_embedding_differs_between_timesteps():
    emb = timestep_embedding(torch.tensor([0, 1, 500, 999]), 32)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not torch.allclose(emb[i], emb[j]), (i, j)


# --- class labels ---


def test_labels_for_none_is_all_unconditional():
    assert labels_for(None, 4).tolist() == [NULL_CLASS] * 4


def test_labels_for_maps_minus_one_to_the_null_class():
    assert labels_for([3, -1, 9], 3).tolist() == [3, NULL_CLASS, 9]


def test_labels_for_does_not_change_the_callers_tensor():
    classes = torch.tensor([-1, 2])
    labels_for(classes, 2)
    assert classes.tolist() == [-1, 2]


@pytest.mark.parametrize("classes", [[1, 2], [1, 2, 3, 4], [0, 11, 2]], ids=repr)
def test_labels_for_refuses_a_wrong_count_or_class(classes):
    with pytest.raises(ValueError):
        labels_for(classes, 3)


def test_drop_labels_with_share_0_keeps_every_label():
    labels = torch.arange(10)
    assert torch.equal(drop_labels(labels, 0.0, torch.Generator().manual_seed(0)), labels)


def test_drop_labels_with_share_1_drops_every_label():
    dropped = drop_labels(torch.arange(10), 1.0, torch.Generator().manual_seed(0))
    assert dropped.tolist() == [NULL_CLASS] * 10


def test_drop_labels_is_seeded_and_drops_about_the_share():
    labels = torch.arange(10).repeat(1_000)
    a = drop_labels(labels, 0.3, torch.Generator().manual_seed(5))
    b = drop_labels(labels, 0.3, torch.Generator().manual_seed(5))
    c = drop_labels(labels, 0.3, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert (a == NULL_CLASS).float().mean().item() == pytest.approx(0.3, abs=0.03)
    kept = a != NULL_CLASS
    assert torch.equal(a[kept], labels[kept])  # what is not dropped is unchanged


# --- dm.run: a timeline of every step ---


def test_run_yields_the_timeline_one_step_longer_each_time(model):
    lengths, done = [], []
    for timeline in dm.run(model, "ddim", 6, 0.0, 0, None, 2):
        lengths.append(len(timeline.kept))
        done.append(timeline.done)
    assert lengths == [1, 2, 3, 4, 5, 6, 6]  # then once more, finished
    assert done == [False] * 6 + [True]


def test_a_finished_run_keeps_every_step_from_pure_noise(ten_steps):
    assert len(ten_steps.kept) == ten_steps.steps == 10
    assert ten_steps.kept[0].t == diffusion.T - 1
    assert [k.t for k in ten_steps.kept] == sorted((k.t for k in ten_steps.kept), reverse=True)
    assert ten_steps.kept[0].x_t.shape == ten_steps.kept[0].x0.shape == ten_steps.kept[0].eps.shape == (2, 1, 28, 28)


def test_a_finished_run_has_final_images_in_range(ten_steps):
    assert ten_steps.final.shape == (2, 1, 28, 28)
    assert ten_steps.final.min() >= -1 and ten_steps.final.max() <= 1
    assert ten_steps.seconds > 0


def test_run_starts_from_the_seeds_initial_noise(ten_steps):
    torch.testing.assert_close(ten_steps.kept[0].x_t, seeding.initial_noise(0, (2, 1, 28, 28)))


def test_run_with_the_same_seed_gives_the_same_images(model, ten_steps):
    again = finished(dm.run(model, "ddim", 10, 0.0, 0, None, 2))
    assert torch.equal(again.final, ten_steps.final)


def test_run_with_another_seed_gives_other_images(model, ten_steps):
    other = finished(dm.run(model, "ddim", 10, 0.0, 1, None, 2))
    assert not torch.allclose(other.final, ten_steps.final)


def test_the_stochastic_ddpm_sampler_is_seeded_too(model):
    a = finished(dm.run(model, "ddpm", 8, 0.0, 3, None, 2))
    b = finished(dm.run(model, "ddpm", 8, 0.0, 3, None, 2))
    c = finished(dm.run(model, "ddpm", 8, 0.0, 4, None, 2))
    assert torch.equal(a.final, b.final)
    assert not torch.allclose(a.final, c.final)


def test_run_gives_each_image_its_class(model):
    timeline = finished(dm.run(model, "ddim", 2, 0.0, 0, [7, -1, 0], 3))
    assert timeline.labels.tolist() == [7, NULL_CLASS, 0]


@pytest.mark.parametrize(
    "settings",
    [
        {"sampler": "heun"},
        {"steps": 0},
        {"steps": 1001},
        {"eta": 1.5},
        {"seed": -1},
        {"batch": 0},
        {"classes": [3, 11]},
    ],
    ids=repr,
)
def test_run_refuses_bad_settings_at_its_first_step(model, settings):
    arguments = {"sampler": "ddim", "steps": 5, "eta": 0.0, "seed": 0, "classes": None, "batch": 2, **settings}
    with pytest.raises(ValueError):
        next(dm.run(model, **arguments))


# --- branches ---


def test_a_branch_starts_from_the_kept_step(model, ten_steps):
    kept = ten_steps.kept[3]
    branch = finished(dm.run(model, "ddpm", 5, 0.0, 0, branch_of=(ten_steps, 3)))
    assert branch.kept[0].t == kept.t
    assert torch.equal(branch.kept[0].x_t, kept.x_t)
    assert branch.branched_from == (3, kept.t)
    assert len(branch.kept) == 5 and branch.final.shape == ten_steps.final.shape


def test_a_branch_keeps_the_source_runs_labels(model):
    source = finished(dm.run(model, "ddim", 4, 0.0, 0, [1, 2], 2))
    branch = finished(dm.run(model, "ddim", 2, 0.0, 0, branch_of=(source, 1)))
    assert torch.equal(branch.labels, source.labels)


def test_a_branch_may_take_every_remaining_timestep_but_no_more(model, ten_steps):
    index = len(ten_steps.kept) - 1  # the last kept step, t = 99 for 10 trailing steps
    t = ten_steps.kept[index].t
    with pytest.raises(ValueError, match="at most"):
        next(dm.run(model, "ddim", t + 2, 0.0, 0, branch_of=(ten_steps, index)))
    first = next(dm.run(model, "ddim", t + 1, 0.0, 0, branch_of=(ten_steps, index)))
    assert first.kept[0].t == t


@pytest.mark.parametrize("index", [-1, 10, 11])
def test_a_branch_from_a_step_that_was_not_kept_is_refused(model, ten_steps, index):
    with pytest.raises(ValueError, match="kept step"):
        next(dm.run(model, "ddim", 2, 0.0, 0, branch_of=(ten_steps, index)))


# --- check_batch ---


@pytest.mark.parametrize("batch", [0, 17, 2.5, math.nan, math.inf, "x", None], ids=repr)
def test_check_batch_refuses_what_is_not_1_to_16_images(batch):
    with pytest.raises(ValueError):
        dm.check_batch(batch)


@pytest.mark.parametrize("batch", [1, 16, 16.0, "4"], ids=repr)
def test_check_batch_accepts_1_to_16_images(batch):
    assert dm.check_batch(batch) == int(float(batch))


# --- dm.sample: final images only ---


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_sample_matches_the_final_of_a_run_with_the_same_settings(model, sampler):
    labels = labels_for([4, -1, 9], 3)
    images = dm.sample(model, sampler, 6, 0.0, 2, labels)
    timeline = finished(dm.run(model, sampler, 6, 0.0, 2, [4, -1, 9], 3))
    assert images.shape == (3, 1, 28, 28)
    torch.testing.assert_close(images, timeline.final)


def test_sample_gives_one_image_per_label(model):
    assert dm.sample(model, "ddim", 2, 0.0, 0, labels_for(None, 5)).shape == (5, 1, 28, 28)


# --- Timeline.describe ---


def test_describe_names_the_sampler_steps_and_seed(ten_steps):
    text = ten_steps.describe()
    assert "DDIM" in text and "10 steps" in text and "seed 0" in text
    assert "branched" not in text


def test_describe_shows_eta_only_for_ddim_with_noise(model):
    noisy = next(dm.run(model, "ddim", 3, 0.5, 0, None, 1))
    assert "eta 0.5" in noisy.describe()
    ancestral = next(dm.run(model, "ddpm", 3, 0.5, 0, None, 1))
    assert "eta" not in ancestral.describe()


def test_describe_names_the_branch_point_one_based(model, ten_steps):
    branch = next(dm.run(model, "ddpm", 5, 0.0, 0, branch_of=(ten_steps, 2)))
    text = branch.describe()
    assert "DDPM" in text and "5 steps" in text
    assert f"branched at step 3 (t = {ten_steps.kept[2].t})" in text
