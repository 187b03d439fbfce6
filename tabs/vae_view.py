"""Figures, image strips and the GIF export of the VAE tab: tensors in, pictures out. No model calls."""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from core import images
from tabs.image_views import CLASS_COLOURS, enlarge, gif_bytes, strip_with_labels, tile  # noqa: F401

MAP_POINTS = 4_000  # test points drawn on a latent map (plotly stays responsive, payload ~250 kB)


def _layout(figure: go.Figure, title: str, height: int = 460) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.02, "font": {"size": 14}},
        height=height,
        margin={"l": 50, "r": 10, "t": 40, "b": 45},
        legend={"itemsizing": "constant", "font": {"size": 11}},
        plot_bgcolor="white",
    )
    figure.update_xaxes(showgrid=True, gridcolor="#eee", zeroline=True, zerolinecolor="#ccc")
    figure.update_yaxes(showgrid=True, gridcolor="#eee", zeroline=True, zerolinecolor="#ccc")
    return figure


def latent_map(
    points: torch.Tensor,
    labels: torch.Tensor,
    class_names: tuple[str, ...],
    title: str,
    axis_names: tuple[str, str] = ("z₁", "z₂"),
    marker: tuple[float, float] | None = None,
    marker_label: str = "current point",
    paths: dict[str, torch.Tensor] | None = None,
    extent: float | None = None,
    legend: bool = True,
) -> go.Figure:
    """Scatter of points (N, 2) coloured by class, with an optional marked point and drawn paths (K, 2)."""
    points, labels = points[:MAP_POINTS].float(), labels[:MAP_POINTS]
    figure = go.Figure()
    for cls, name in enumerate(class_names):
        chosen = labels == cls
        if chosen.any():
            xy = points[chosen].numpy().round(3)
            figure.add_trace(
                go.Scattergl(
                    x=xy[:, 0],
                    y=xy[:, 1],
                    mode="markers",
                    name=f"{cls}: {name}",
                    marker={"size": 4, "color": CLASS_COLOURS[cls % 10], "opacity": 0.6},
                    hovertemplate=f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
                )
            )
    for (label, path), dash in zip((paths or {}).items(), ("solid", "dot", "dash"), strict=False):
        xy = path.float().numpy()
        figure.add_trace(
            go.Scatter(
                x=xy[:, 0],
                y=xy[:, 1],
                mode="lines+markers",
                name=label,
                line={"color": "black", "width": 2, "dash": dash},
                marker={"size": 6, "color": "black"},
            )
        )
    if marker is not None:
        figure.add_trace(
            go.Scatter(
                x=[marker[0]],
                y=[marker[1]],
                mode="markers",
                name=marker_label,
                marker={"size": 16, "color": "rgba(0,0,0,0)", "line": {"color": "black", "width": 3}, "symbol": "x"},
            )
        )
    figure.update_xaxes(title=axis_names[0])
    figure.update_yaxes(title=axis_names[1], scaleanchor="x", scaleratio=1)
    if extent is not None:  # a square window on the plane; "domain" shrinks the plot, not the range
        figure.update_xaxes(range=[-extent, extent], constrain="domain")
        figure.update_yaxes(range=[-extent, extent], constrain="domain")
    figure.update_layout(hovermode="closest", dragmode="pan")
    figure = _layout(figure, title)
    if not legend:
        figure.update_layout(showlegend=False, height=380)
    return figure


def manifold_figure(grid: torch.Tensor, values: torch.Tensor, dims: tuple[int, int], title: str) -> go.Figure:
    """The decoded n x n grid as one picture, its axes labelled with the latent values."""
    n = len(values)
    picture = images.to_pixels(grid).reshape(n, n, 28, 28).transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    figure = go.Figure(
        go.Heatmap(
            z=picture[::-1],
            colorscale="gray",
            showscale=False,
            hoverinfo="skip",
        )
    )
    centres = [28 * i + 13.5 for i in range(n)]
    every = max(1, n // 8)
    ticks = [f"{float(v):.2f}" for v in values]
    figure.update_xaxes(
        tickvals=centres[::every], ticktext=ticks[::every], title=f"z{_sub(dims[0])}", showgrid=False, zeroline=False
    )
    figure.update_yaxes(
        tickvals=centres[::every],
        ticktext=ticks[::every],
        title=f"z{_sub(dims[1])}",
        showgrid=False,
        zeroline=False,
        scaleanchor="x",
        scaleratio=1,
    )
    return _layout(figure, title, height=620)


def _sub(dim: int) -> str:
    return str(dim + 1).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def losses_figure(history: list[dict[str, float]], title: str = "Training loss (nats per image)") -> go.Figure:
    figure = go.Figure()
    steps = [h["step"] for h in history]
    for key, name, colour in (
        ("loss", "total: reconstruction + beta·KL", "black"),
        ("reconstruction", "reconstruction", "#4e79a7"),
        ("kl", "KL", "#e15759"),
    ):
        figure.add_trace(
            go.Scatter(x=steps, y=[h[key] for h in history], name=name, mode="lines", line={"color": colour})
        )
    figure.update_xaxes(title="step")
    figure.update_yaxes(title="nats per image (log scale: KL is far smaller)", type="log")
    return _layout(figure, title, height=340)


def posterior_figure(mu: torch.Tensor, sigma: torch.Tensor, z: torch.Tensor) -> go.Figure:
    """Per latent dimension: the posterior mean with a ±2σ bar, and the sampled z."""
    dims = [f"z{_sub(i)}" for i in range(len(mu))]
    figure = go.Figure(
        [
            go.Bar(
                x=dims,
                y=mu.numpy(),
                name="μ (mean)",
                marker_color="#4e79a7",
                error_y={"type": "data", "array": (2 * sigma).numpy(), "visible": True, "color": "#333"},
                hovertemplate="%{x}: μ=%{y:.3f}<extra></extra>",
            ),
            go.Scatter(
                x=dims,
                y=z.numpy(),
                name="sampled z",
                mode="markers",
                marker={"size": 11, "color": "#e15759", "symbol": "diamond"},
                hovertemplate="%{x}: z=%{y:.3f}<extra></extra>",
            ),
        ]
    )
    figure.update_yaxes(title="value (bars: μ ± 2σ)")
    return _layout(figure, "q(z | x): mean, spread and one sample", height=320)
