"""The VAE: its sampling trick and loss terms against hand and library computations, latent walks,
saving, a short training run, the live trainer, and turning a user's drawing into an input image."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch

from core import images
from core.vae import (
    ConvVAE,
    VAEConfig,
    axis_values,
    decode_batched,
    elbo_terms,
    encode_batched,
    evaluate,
    grid_latents,
    kl_divergence,
    lerp,
    load_vae,
    path,
    reconstruction_nll,
    reparameterize,
    save_vae,
    slerp,
    train_step,
)
from core.vae_live import LiveVAE

TINY = VAEConfig(latent_dim=2, channels=(4, 8), hidden=16)


def tiny_model(seed: int = 0, config: VAEConfig = TINY) -> ConvVAE:
    torch.manual_seed(seed)
    return ConvVAE(config)


# --- the reparameterisation trick and the two loss terms ---


def test_reparameterize_samples_have_the_requested_mean_and_std():
    n = 20_000
    m, s = torch.tensor([1.5, -2.0, 0.0]), torch.tensor([0.5, 3.0, 1.0])
    mu, logvar = m.repeat(n, 1), torch.log(s**2).repeat(n, 1)
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert z.shape == (n, 3)
    # standard errors: s / sqrt(n) for the mean, about s / sqrt(2n) for the std; allow 5 of them
    assert torch.all((z.mean(0) - m).abs() < 5 * s / math.sqrt(n))
    assert torch.all((z.std(0) - s).abs() < 5 * s / math.sqrt(2 * n))


def test_reparameterize_is_seeded_and_gradients_reach_mu_and_logvar():
    mu = torch.tensor([[0.3, -1.0]], requires_grad=True)
    logvar = torch.tensor([[0.2, -0.5]], requires_grad=True)
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(7))
    again = reparameterize(mu, logvar, torch.Generator().manual_seed(7))
    assert torch.equal(z, again)
    z.sum().backward()
    # dz/dmu = 1; dz/dlogvar = 0.5 * sigma * eps = 0.5 * (z - mu)
    assert torch.allclose(mu.grad, torch.ones_like(mu))
    assert torch.allclose(logvar.grad, 0.5 * (z - mu).detach(), atol=1e-6)
    assert torch.all(logvar.grad != 0)


def test_kl_known_answers():
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).tolist() == [0.0, 0.0, 0.0]
    assert kl_divergence(torch.ones(1, 1), torch.zeros(1, 1)).item() == pytest.approx(0.5)
    # sigma = 2, mu = 0 in 1-D: 0.5 * (4 - 1 - log 4)
    assert kl_divergence(torch.zeros(1, 1), torch.full((1, 1), math.log(4.0))).item() == pytest.approx(
        0.5 * (3 - math.log(4.0)), rel=1e-6
    )


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    mu, logvar = (
        torch.randn(8, 5, generator=g, dtype=torch.float64),
        torch.randn(8, 5, generator=g, dtype=torch.float64),
    )
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(dim=1)
    ours = kl_divergence(mu, logvar)
    assert ours.shape == (8,)
    assert torch.allclose(ours, expected, rtol=1e-10, atol=1e-10)
    assert torch.all(ours >= 0)


def test_reconstruction_nll_with_zero_logits_is_784_log_2_for_any_image():
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    x[0] = -1.0
    x[1] = 1.0
    nll = reconstruction_nll(torch.zeros(3, 1, 28, 28), x)
    assert nll.shape == (3,)
    assert torch.allclose(nll, torch.full((3,), 784 * math.log(2.0)), rtol=1e-6)


def test_reconstruction_nll_matches_a_hand_bernoulli_computation():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(4, 1, 28, 28, generator=g, dtype=torch.float64) * 3
    x = torch.rand(4, 1, 28, 28, generator=g, dtype=torch.float64) * 2 - 1
    p, t = torch.sigmoid(logits), (x + 1) / 2
    by_hand = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).reshape(4, -1).sum(dim=1)
    assert torch.allclose(reconstruction_nll(logits, x), by_hand, rtol=1e-9)
    # a confident, correct decoder on a binary image pays almost nothing
    binary = torch.where(x > 0, 1.0, -1.0)
    assert reconstruction_nll(binary * 20, binary).max() < 784 * 1e-8


@pytest.mark.parametrize("beta", [None, 0.5, 4.0])
def test_elbo_terms_relations(beta):
    model = tiny_model(config=VAEConfig(latent_dim=2, beta=3.0, channels=(4, 8), hidden=16))
    x = images.load_subset("mnist", "test").images[:16]
    terms = elbo_terms(model, x, beta, torch.Generator().manual_seed(0))
    used = 3.0 if beta is None else beta
    assert torch.allclose(terms.elbo, -(terms.reconstruction + terms.kl))
    assert torch.allclose(terms.loss, terms.reconstruction + used * terms.kl)
    assert terms.reconstruction > 0 and terms.kl > 0
    # the terms are the batch means of the per-image functions, with the same z sample
    out = model(x, torch.Generator().manual_seed(0))
    assert torch.allclose(terms.reconstruction, reconstruction_nll(out.logits, x).mean())
    assert torch.allclose(terms.kl, kl_divergence(out.mu, out.logvar).mean())


def test_evaluate_is_seeded_and_consistent():
    model = tiny_model()
    x = images.load_subset("mnist", "test").images[:64]
    first, second = evaluate(model, x, seed=3, batch_size=20), evaluate(model, x, seed=3, batch_size=20)
    assert first == second
    assert first["elbo"] == pytest.approx(-(first["reconstruction"] + first["kl"]), rel=1e-5)


# --- walks through the latent space ---


def test_slerp_endpoints_and_linear_norms():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(8, generator=g), 3 * torch.randn(8, generator=g)
    ts = torch.linspace(0, 1, 11)
    z = slerp(a, b, ts)
    assert z.shape == (11, 8)
    assert torch.allclose(z[0], a, atol=1e-5) and torch.allclose(z[-1], b, atol=1e-5)
    expected_norms = (1 - ts) * a.norm() + ts * b.norm()
    assert torch.allclose(z.norm(dim=1), expected_norms, rtol=1e-5)


def test_slerp_keeps_the_norm_where_lerp_shrinks_it():
    a, b = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    mid = torch.tensor([0.5])
    assert slerp(a, b, mid)[0].norm().item() == pytest.approx(1.0, abs=1e-6)
    assert lerp(a, b, mid)[0].norm().item() == pytest.approx(math.sqrt(0.5), abs=1e-6)
    # on the great circle: equal angles to both ends at the midpoint
    assert torch.allclose(slerp(a, b, mid)[0], torch.tensor([1.0, 1.0, 0.0]) / math.sqrt(2), atol=1e-6)


@pytest.mark.parametrize(
    "b",
    [
        pytest.param(torch.tensor([2.0, 4.0, 6.0]), id="parallel"),
        pytest.param(torch.tensor([1.0, 2.0, 3.0]), id="equal"),
        pytest.param(torch.zeros(3), id="zero-end"),
    ],
)
def test_slerp_falls_back_to_lerp_without_nan(b):
    a, ts = torch.tensor([1.0, 2.0, 3.0]), torch.linspace(0, 1, 7)
    for start, end in ((a, b), (b, a)):
        z = slerp(start, end, ts)
        assert torch.isfinite(z).all()
        assert torch.allclose(z, lerp(start, end, ts), atol=1e-5)
    both_zero = slerp(torch.zeros(3), torch.zeros(3), ts)
    assert torch.isfinite(both_zero).all() and torch.all(both_zero == 0)


def test_slerp_falls_back_to_lerp_for_antiparallel_vectors():
    a, ts = torch.tensor([1.0, 2.0, 3.0]), torch.linspace(0, 1, 5)
    z = slerp(a, -a, ts)
    assert torch.isfinite(z).all()
    assert torch.allclose(z, lerp(a, -a, ts), atol=1e-5)


def test_path_includes_both_ends():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    for kind in ("linear", "spherical"):
        z = path(a, b, 6, kind)
        assert z.shape == (6, 2)
        assert torch.allclose(z[0], a, atol=1e-6) and torch.allclose(z[-1], b, atol=1e-6)
    assert not torch.allclose(path(a, b, 6, "linear"), path(a, b, 6, "spherical"))


def test_axis_values_linear_is_linspace():
    assert torch.allclose(axis_values(7, -2.0, 4.0, "linear"), torch.linspace(-2.0, 4.0, 7))
    assert torch.allclose(axis_values(7, -2.0, 4.0), torch.linspace(-2.0, 4.0, 7))


@pytest.mark.parametrize(("low", "high"), [(-3.0, 3.0), (-2.0, 2.0), (-1.0, 3.0), (0.5, 2.5)])
def test_axis_values_quantile(low, high):
    n = 15
    v = axis_values(n, low, high, "quantile")
    assert v.shape == (n,) and torch.isfinite(v).all()
    assert v[0].item() == pytest.approx(low, abs=1e-4) and v[-1].item() == pytest.approx(high, abs=1e-4)
    assert torch.all(v.diff() > 0)
    # equal prior mass between neighbours: equal steps of the normal CDF
    cdf = torch.distributions.Normal(0.0, 1.0).cdf(v.double())
    assert torch.allclose(cdf.diff(), cdf.diff().mean().expand(n - 1), rtol=1e-3)


def test_axis_values_quantile_is_symmetric_and_denser_near_zero():
    v = axis_values(15, -3.0, 3.0, "quantile")
    assert torch.allclose(v, -v.flip(0), atol=1e-4)
    assert v[7].abs() < 1e-4
    steps = v.diff()
    assert steps[6] < steps[0] / 3 and steps[7] < steps[-1] / 3  # middle steps much finer than the tails
    linear_steps = axis_values(15, -3.0, 3.0, "linear").diff()
    assert steps[6] < linear_steps[6]


def test_axis_values_quantile_honours_a_range_in_the_tails():
    v = axis_values(5, 5.0, 8.0, "quantile")
    assert torch.all(v.diff() > 0)
    assert v[0].item() == pytest.approx(5.0, abs=1e-3) and v[-1].item() == pytest.approx(8.0, abs=1e-3)


@pytest.mark.parametrize(
    ("low", "high"), [(math.nan, 1.0), (-1.0, math.nan), (-math.inf, 1.0), (0.0, math.inf), (1.0, 1.0), (2.0, -2.0)]
)
@pytest.mark.parametrize("spacing", ["linear", "quantile"])
def test_axis_values_rejects_bad_ranges(low, high, spacing):
    with pytest.raises(ValueError, match="finite"):
        axis_values(5, low, high, spacing)


def test_grid_latents_layout():
    n = 4
    z, values = grid_latents(n, -2.0, 2.0, "linear")
    assert z.shape == (n * n, 2) and values.shape == (n,)
    assert z[0].tolist() == [-2.0, 2.0]  # top-left: low across, high up
    assert z[-1].tolist() == [2.0, -2.0]  # bottom-right
    assert z[n - 1].tolist() == [2.0, 2.0] and z[n * (n - 1)].tolist() == [-2.0, -2.0]
    for r in range(n):
        for c in range(n):
            assert z[r * n + c].tolist() == [values[c].item(), values[n - 1 - r].item()]


def test_grid_latents_other_dims_come_from_base():
    base = torch.tensor([0.1, 0.2, 0.3, 0.4])
    z, values = grid_latents(3, -1.0, 1.0, "quantile", dims=(2, 0), base=base, latent_dim=4)
    assert z.shape == (9, 4)
    assert torch.all(z[:, 1] == 0.2) and torch.all(z[:, 3] == 0.4)
    assert z[0, 2] == values[0] and z[0, 0] == values[-1]
    assert z[-1, 2] == values[-1] and z[-1, 0] == values[0]
    assert base.tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])  # not modified in place


def test_decode_and_encode_batched_shapes_and_ranges():
    model = tiny_model().eval()
    z = torch.randn(37, 2, generator=torch.Generator().manual_seed(0))
    x = decode_batched(model, z, batch_size=10)
    assert x.shape == (37, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert torch.allclose(x, model.decode(z), atol=1e-6)
    mu, logvar = encode_batched(model, x, batch_size=10)
    assert mu.shape == logvar.shape == (37, 2)
    assert torch.allclose(mu, model.encode(x)[0], atol=1e-6)


# --- saving, loading, training ---


def test_save_load_round_trip(tmp_path):
    config = VAEConfig(latent_dim=3, beta=2.5, channels=(4, 8), hidden=16)
    model = tiny_model(config=config).eval()
    extras = {"test_latents": torch.randn(10, 3), "test_labels": torch.arange(10)}
    file = save_vae(model, tmp_path / "tiny.safetensors", extras)
    assert file.is_file() and file.with_suffix(".json").is_file()
    loaded, loaded_extras, card = load_vae(file)
    assert loaded.config == config and isinstance(loaded.config.channels, tuple)
    assert card["model"]["latent_dim"] == 3
    assert not loaded.training
    state, original = loaded.state_dict(), model.state_dict()
    assert state.keys() == original.keys()
    assert all(torch.equal(state[k], original[k]) for k in state)
    assert set(loaded_extras) == {"test_latents", "test_labels"}
    assert torch.equal(loaded_extras["test_latents"], extras["test_latents"])
    assert torch.equal(loaded_extras["test_labels"], extras["test_labels"])
    z = torch.randn(5, 3)
    assert torch.equal(loaded.decode(z), model.decode(z))


def test_load_rejects_a_card_without_the_model_entry(tmp_path):
    file = save_vae(tiny_model(), tmp_path / "tiny.safetensors")
    file.with_suffix(".json").write_text('{"config": {}}')
    with pytest.raises(ValueError, match="model"):
        load_vae(file)


def test_train_step_lowers_the_loss_on_a_fixed_batch():
    model = tiny_model(seed=0)
    x = images.load_subset("mnist", "train").images[:64]
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    before = evaluate(model, x, seed=0)
    noise = torch.Generator().manual_seed(1)
    losses = [train_step(model, optimizer, x, generator=noise).loss.item() for _ in range(30)]
    after = evaluate(model, x, seed=0)
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-5:]) / 5 < 0.8 * losses[0]
    assert -after["elbo"] < 0.8 * -before["elbo"]


# --- the live trainer ---


def _run(live: LiveVAE, **kwargs) -> list:
    return list(live.run(**kwargs))


def test_live_vae_is_reproducible():
    first, second = LiveVAE(seed=3), LiveVAE(seed=3)
    frames_a = _run(first, epochs=0.1, frame_steps=2)
    frames_b = _run(second, epochs=0.1, frame_steps=2)
    steps = round(0.1 * 5_000 / 128)
    assert [f.step for f in frames_a] == [*range(2, steps + 1, 2), steps]
    assert [f.done for f in frames_a] == [False] * (len(frames_a) - 1) + [True]
    assert frames_a[-1].stopped is None and frames_a[-1].epoch == pytest.approx(steps * 128 / 5_000)
    assert frames_a[-1].history == frames_b[-1].history and len(frames_a[-1].history) == steps // 2
    assert torch.equal(frames_a[-1].latents, frames_b[-1].latents)
    assert frames_a[-1].latents.shape == (1_000, 2) and frames_a[-1].labels.shape == (1_000,)
    other = _run(LiveVAE(seed=4), epochs=0.1, frame_steps=2)
    assert not torch.equal(other[-1].latents, frames_a[-1].latents)


def test_live_vae_continues_and_resets():
    live = LiveVAE(seed=0)
    _run(live, epochs=0.03, frame_steps=1)
    done = live.step
    _run(live, epochs=0.03, frame_steps=1)
    assert live.step == 2 * done and len(live.history) == 2 * done
    live.reset()
    assert live.step == 0 and live.history == []


def test_live_vae_stop_before_the_first_step():
    stop = threading.Event()
    stop.set()
    frames = _run(LiveVAE(seed=0), epochs=1, stop=stop)
    assert len(frames) == 1
    assert frames[0].stopped == "stopped" and frames[0].done and frames[0].step == 0


def test_live_vae_time_limit():
    frames = _run(LiveVAE(seed=0), epochs=1, max_seconds=-1.0)
    assert len(frames) == 1 and frames[0].stopped == "time limit" and frames[0].done


@pytest.mark.parametrize("epochs", [0, -1, 50.5, math.nan])
def test_live_vae_rejects_epochs_out_of_range(epochs):
    with pytest.raises(ValueError, match="epoch"):
        _run(LiveVAE(seed=0), epochs=epochs)


def test_live_vae_rejects_an_unknown_dataset():
    with pytest.raises(ValueError, match="Unknown image data set"):
        LiveVAE(dataset="cifar")


# --- a user's drawing or upload as an input image ---


def _centre_of_mass(x: torch.Tensor) -> tuple[float, float]:
    weights = ((x[0, 0] + 1) / 2).double()
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    total = weights.sum()
    return float((weights * rows).sum() / total), float((weights * cols).sum() / total)


def _canvas_with_stroke(size: int = 300) -> np.ndarray:
    """White paper, a thick dark plus sign well away from the centre."""
    canvas = np.full((size, size), 255, np.uint8)
    canvas[40:120, 70:82] = 0  # vertical bar
    canvas[74:86, 36:116] = 0  # horizontal bar
    return canvas


def _check_centred_bright_ink(x: torch.Tensor) -> None:
    assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert x.max() == 1.0  # full contrast ink
    assert x[0, 0, 0, 0] == -1.0 and x[0, 0, -1, -1] == -1.0  # black background
    assert ((x > 0).float().mean() < 0.5).item()  # the ink is the minority, and bright
    row, col = _centre_of_mass(x)
    assert abs(row - 13.5) < 3 and abs(col - 13.5) < 3


def test_from_user_image_dark_stroke_on_white():
    _check_centred_bright_ink(images.from_user_image(_canvas_with_stroke()))


def test_from_user_image_rgb_and_float_pictures():
    grey = _canvas_with_stroke()
    rgb = np.repeat(grey[..., None], 3, axis=2)
    from_rgb = images.from_user_image(rgb)
    _check_centred_bright_ink(from_rgb)
    assert torch.equal(from_rgb, images.from_user_image(grey))
    _check_centred_bright_ink(images.from_user_image(grey.astype(np.float32) / 255.0))


def test_from_user_image_light_stroke_on_black_is_kept():
    inverted = 255 - _canvas_with_stroke()
    x = images.from_user_image(inverted)
    _check_centred_bright_ink(x)
    assert torch.equal(x, images.from_user_image(_canvas_with_stroke()))
    assert torch.equal(images.from_user_image(inverted, invert=False), x)


@pytest.mark.parametrize("ink", [0, 255], ids=["black-ink", "white-ink"])
def test_from_user_image_rgba_with_transparent_background(ink):
    stroke = _canvas_with_stroke() == 0
    rgba = np.zeros((*stroke.shape, 4), np.uint8)  # fully transparent
    rgba[stroke] = (ink, ink, ink, 255)
    _check_centred_bright_ink(images.from_user_image(rgba))


@pytest.mark.parametrize(
    "blank",
    [
        np.full((200, 200), 255, np.uint8),
        np.zeros((200, 200), np.uint8),
        np.zeros((200, 200, 4), np.uint8),
        np.full((200, 200, 3), 250, np.uint8),
    ],
    ids=["white", "black", "transparent", "near-white-rgb"],
)
def test_from_user_image_blank_canvas(blank):
    with pytest.raises(ValueError, match="blank"):
        images.from_user_image(blank)


def test_from_user_image_nearly_black_uint8_picture_is_blank():
    picture = np.zeros((100, 100), np.uint8)
    picture[30:70, 45:55] = 1
    with pytest.raises(ValueError, match="blank"):
        images.from_user_image(picture)


@pytest.mark.parametrize(
    "bad",
    [np.array([None, 1, "x"], dtype=object), np.zeros(100, np.uint8), np.zeros((2, 3, 4, 5)), np.zeros((0, 10))],
    ids=["object", "1-D", "4-D", "empty"],
)
def test_from_user_image_rejects_non_images(bad):
    with pytest.raises(ValueError, match="not an image"):
        images.from_user_image(bad)


def test_from_user_image_rejects_huge_pictures_quickly():
    huge = np.broadcast_to(np.uint8(0), (6000, 6000))  # 36 megapixels, no memory behind it
    with pytest.raises(ValueError, match="megapixels"):
        images.from_user_image(huge)


def test_from_user_image_rejects_none():
    with pytest.raises(ValueError, match="No picture"):
        images.from_user_image(None)
