"""The VAE tab's handlers: each takes the tab's input values and returns its outputs.

Thin adapters between the components (tabs/vae.py lays them out and wires them) and the numbers
(core.vae, core.vae_models, core.vae_live); pictures come from tabs.vae_view. Bad input becomes
a gr.Error with a sentence the learner can act on.
"""

from __future__ import annotations

import time

import gradio as gr
import torch

from core import images, seeding
from core import vae_models as vm
from core.vae import kl_divergence, reconstruction_nll
from tabs import vae_view as view
from tabs.exports import export_path

SLIDERS = 16  # one per latent dimension of the largest shipped model


def _vae(key: str) -> vm.ShippedVAE:
    try:
        return vm.load(key)
    except ValueError as err:
        raise gr.Error(str(err)) from None


def model_choices() -> list[tuple[str, str]]:
    return [(title, key) for key, title in vm.models().items()]


def _card_markdown(vae: vm.ShippedVAE) -> str:
    m = vae.card["metrics"]
    return (
        f"**{vae.title}** (β = {vae.beta:g}, {vae.card.get('parameters', 0):,} parameters). On the full test set: "
        f"ELBO **{m['test_elbo']:.1f}** nats per image = −(reconstruction {m['test_reconstruction']:.1f} + "
        f"KL {m['test_kl']:.1f}). Images decoded from prior samples: FD-classifier **{m['sample_fd_classifier']:.1f}** "
        f"(real test images vs training images: {m['fd_floor']:.1f}; lower is better). "
        f"Trained {vae.card['steps']:,} steps in {vae.card['wall_time_s'] / 60:.0f} min on {vae.card['device']}."
    )


def _map_points(vae: vm.ShippedVAE) -> tuple[torch.Tensor, torch.Tensor, tuple[str, str]]:
    """What the latent map draws: the means themselves (2-D) or their UMAP picture (16-D)."""
    if vae.latent_dim == 2:
        return vae.test_latents, vae.test_labels, ("z₁", "z₂")
    return vae.umap_embedding, vae.test_labels[vae.umap_index], ("UMAP 1", "UMAP 2")


def _map_figure(vae: vm.ShippedVAE, marker=None, paths=None, marker_label="current point", title: str | None = None):
    points, labels, axes = _map_points(vae)
    if title is None:
        title = (
            "Test-set latent means (hover or click anywhere to decode)"
            if vae.latent_dim == 2
            else "UMAP of 16-D test latent means (hover a point to decode its latent)"
        )
    return view.latent_map(
        points,
        labels,
        vae.class_names,
        title,
        axes,
        marker=marker,
        paths=paths,
        marker_label=marker_label,
        extent=4.0 if vae.latent_dim == 2 else None,
    )


# --- 1. latent map ---


def show_model(key: str):
    vae = _vae(key)
    if vae.latent_dim > 2:
        vm.warm_umap(vae)  # in the background: the sliders view will want exact UMAP places
    dims = [(f"z{i + 1}", i) for i in range(vae.latent_dim)]
    return (
        _card_markdown(vae),
        _map_figure(vae),
        gr.update(choices=dims, value=0),
        gr.update(choices=dims, value=1),
    )


def _parse_point(point: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in str(point).split(","))
    except ValueError:
        raise gr.Error("A map point is two numbers separated by a comma, e.g. 0.5,-1.2.") from None
    return x, y


def decode_point(key: str, point: str):
    """Decode the map point "x,y": a latent (2-D models) or the nearest test point's latent (UMAP maps)."""
    vae = _vae(key)
    if not point:
        return gr.update(), ""
    x, y = _parse_point(point)
    if vae.latent_dim == 2:
        z = torch.tensor([x, y])
        where = f"z = ({x:.2f}, {y:.2f})"
    else:
        nearest = int(torch.cdist(torch.tensor([[x, y]]), vae.umap_embedding)[0].argmin())
        row = int(vae.umap_index[nearest])
        z = vae.test_latents[row]
        where = f"test image #{row} ({vae.class_names[int(vae.test_labels[row])]}), its 16-D latent mean"
    try:
        image = vm.decode(vae, z)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    return view.enlarge(image), where


def decode_latent(key: str, z1: float, z2: float):
    """Decode the latent (z1, z2) of a 2-D model (API and keyboard entry)."""
    vae = _vae(key)
    if vae.latent_dim != 2:
        raise gr.Error("Typed coordinates decode a 2-D model; use the sliders for a 16-D one.")
    return decode_point(key, f"{z1},{z2}")


# --- beta trade-off: the three MNIST 2-D models side by side ---

BETA_MODELS = ("vae-2d-beta0.5-mnist", "vae-2d-mnist", "vae-2d-beta4-mnist")


def beta_tradeoff():
    rows = [
        "| β | reconstruction (nats) | KL (nats) | ELBO | FD-classifier of prior samples |",
        "| --- | --- | --- | --- | --- |",
    ]
    figures = []
    for key in BETA_MODELS:
        vae = _vae(key)
        m = vae.card["metrics"]
        rows.append(
            f"| {vae.beta:g} | {m['test_reconstruction']:.1f} | {m['test_kl']:.1f} | {m['test_elbo']:.1f} | "
            f"{m['sample_fd_classifier']:.1f} |"
        )
        figures.append(
            view.latent_map(
                vae.test_latents, vae.test_labels, vae.class_names, f"β = {vae.beta:g}", extent=4.0, legend=False
            )
        )
    summary = (
        "Same architecture, data and steps; only β differs. Higher β pulls every image's cloud towards N(0, I): "
        "less KL, a rounder map with fewer gaps (so more of the plane decodes to something digit-like), but more "
        "reconstruction error. Lower β does the reverse.\n\n" + "\n".join(rows)
    )
    return (*figures, summary)


# --- 2. manifold ---


def _whole(value, default: int, what: str) -> int:
    """A whole number from a UI value (None -> default); a clear error for NaN, text and the like."""
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(f"The {what} must be a whole number.") from None


def checked_seed(value) -> int:
    try:
        return seeding.check_seed(value)
    except ValueError as err:
        raise gr.Error(str(err)) from None


def manifold(key: str, n: float, low: float, high: float, spacing: str, dim_x, dim_y):
    vae = _vae(key)
    try:  # None (an emptied box) and text are refused here; infinities by core's range check below
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise gr.Error("The latent range needs two numbers with 'from' below 'to'.") from None
    if not low < high:  # (also NaN)
        raise gr.Error("The latent range needs two numbers with 'from' below 'to'.")
    n = _whole(n, 15, "grid size")
    dims = (_whole(dim_x, 0, "'across' dimension"), _whole(dim_y, 1, "'up' dimension"))
    started = time.perf_counter()
    try:
        grid, values = vm.manifold(vae, n, low, high, spacing, dims)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    seconds = time.perf_counter() - started
    title = f"{n} x {n} decoded latents, {spacing} spacing"
    note = f"Decoded {len(grid)} latents in {seconds * 1000:.0f} ms."
    if vae.latent_dim > 2:
        note += f" The other {vae.latent_dim - 2} dimensions are held at 0 (the prior's mean)."
    return view.manifold_figure(grid, values, dims, title), note


# --- pictures the user picks: a test image, a drawing or an upload ---


def _picked_image(vae: vm.ShippedVAE, source: str, index, editor) -> tuple[torch.Tensor, str]:
    if source == "test image":
        test = images.load_subset(vae.dataset, "test")
        try:
            i = int(index)
        except (TypeError, ValueError):
            raise gr.Error("The test image number must be a whole number.") from None
        if not 0 <= i < len(test):
            raise gr.Error(f"Test images are numbered 0 to {len(test) - 1}.")
        return test.images[i], f"test #{i} ({vae.class_names[int(test.labels[i])]})"
    picture = editor.get("composite") if isinstance(editor, dict) else editor
    try:
        return images.from_user_image(picture)[0], "your picture"
    except ValueError as err:
        raise gr.Error(str(err)) from None


# --- 3. interpolation ---


def interpolate(key: str, source_a, index_a, editor_a, source_b, index_b, editor_b, frames, kind: str):
    vae = _vae(key)
    x_a, name_a = _picked_image(vae, source_a, index_a, editor_a)
    x_b, name_b = _picked_image(vae, source_b, index_b, editor_b)
    kinds = ["linear", "spherical"] if kind == "both" else [kind]
    rows, paths = [], {}
    try:
        for k in kinds:
            z, decoded = vm.interpolate(vae, x_a, x_b, int(frames or 0), k)
            rows.append((f"{k}: {name_a} -> {name_b}", decoded))
            paths[k] = z
    except ValueError as err:
        raise gr.Error(str(err)) from None
    strip = view.strip_with_labels(rows)
    first = kinds[0]
    if vae.latent_dim == 2:
        drawn, note = {f"{k} path": z for k, z in paths.items()}, ""
    else:
        drawn, exact = {}, True
        for k, z in paths.items():
            places = [vm.umap_place(vae, point) for point in z]
            drawn[f"{k} path"] = torch.tensor([p.xy for p in places])
            exact = exact and all(p.exact for p in places)
        note = (
            " Paths on the UMAP picture: exact UMAP transform."
            if exact
            else " Paths on the UMAP picture: approximate (neighbour average) while UMAP warms up; run again in a moment."
        )
    where = "latent plane" if vae.latent_dim == 2 else "UMAP picture"
    figure = _map_figure(vae, paths=drawn, title=f"The path through the {where}: {name_a} -> {name_b}")
    frames_tensor = torch.cat([r[1] for r in rows], dim=3)  # both paths side by side in each GIF frame
    caption = f"VAE {vae.key}: {kind} {name_a} -> {name_b}, {int(frames)} frames"
    gif = export_path("vae-interpolation.gif")
    gif.write_bytes(view.gif_bytes(frames_tensor, caption))
    norms = ", ".join(f"{k}: |z| midpoint {paths[k][len(paths[k]) // 2].norm():.2f}" for k in kinds)
    summary = (
        f"Endpoints are the latent means of {name_a} (|z| = {paths[first][0].norm():.2f}) and {name_b} "
        f"(|z| = {paths[first][-1].norm():.2f}); {norms}. A straight line cuts through the low-norm middle of "
        f"the Gaussian, a spherical path keeps a typical norm.{note}"
    )
    return strip, figure, str(gif), summary


# --- 4. sliders ---


def encode_for_sliders(key: str, index):
    vae = _vae(key)
    x, name = _picked_image(vae, "test image", index, None)
    mu, _ = vm.encode(vae, x)
    updates = [
        gr.update(value=round(float(mu[i]), 2) if i < vae.latent_dim else 0.0, visible=i < vae.latent_dim)
        for i in range(SLIDERS)
    ]
    image, figure, note = _slider_views(vae, mu)
    return [*updates, image, figure, f"Started from the latent mean of {name}. {note}"]


def _slider_views(vae: vm.ShippedVAE, z: torch.Tensor):
    image = view.enlarge(vm.decode(vae, z))
    if vae.latent_dim == 2:
        return image, _map_figure(vae, marker=(float(z[0]), float(z[1])), title="Where the sliders are"), ""
    place = vm.umap_place(vae, z)
    how = "exact UMAP transform" if place.exact else "approximate place (neighbour average) while UMAP warms up"
    figure = _map_figure(vae, marker=place.xy, marker_label="current z", title="Where the sliders are (UMAP picture)")
    return image, figure, f"Marker: {how}."


def slide(key: str, *values):
    vae = _vae(key)
    z = torch.tensor([float(v or 0.0) for v in values[: vae.latent_dim]])
    try:
        image, figure, note = _slider_views(vae, z)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    return image, figure, note


# --- 5. one pass, taken apart ---


def one_pass(key: str, source: str, index, editor, seed):
    vae = _vae(key)
    x, name = _picked_image(vae, source, index, editor)
    seed = checked_seed(seed)
    mu, sigma = vm.encode(vae, x)
    generator = seeding.generator(seed)
    z = mu + sigma * torch.randn(mu.shape, generator=generator)
    spread = mu + sigma * torch.randn((16, len(mu)), generator=generator)  # 16 more draws from q(z | x)
    with torch.no_grad():
        logits = vae.model.decode_logits(z[None].to(next(vae.model.parameters()).device)).cpu()
    reconstruction = float(reconstruction_nll(logits, x.reshape(1, 1, 28, 28))[0])
    kl = float(kl_divergence(mu[None], torch.log(sigma[None] ** 2))[0])
    decoded = torch.sigmoid(logits)[0] * 2 - 1
    summary = (
        f"**{name}**, seed {seed}. Reconstruction −log p(x | z) = **{reconstruction:.1f}** nats; "
        f"KL(q(z | x) ‖ N(0, I)) = **{kl:.1f}** nats; this sample's ELBO estimate −(rec + KL) = "
        f"**{-(reconstruction + kl):.1f}**. Mean σ = {float(sigma.mean()):.3f}: the encoder is that unsure where the "
        "image belongs. Below: 16 more draws of z from the same cloud, decoded."
    )
    spread_images = vm.decode_batched(vae.model, spread)
    return (
        view.enlarge(x),
        view.posterior_figure(mu, sigma, z),
        view.enlarge(decoded),
        view.tile(spread_images, columns=8, scale=3),
        summary,
    )
