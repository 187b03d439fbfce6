"""The shipped image flows and what the flow tab asks of them: trajectories, kept frame by frame.

Every model is a registry entry ("flow-mnist", "flow-fashion") trained by scripts/train_flow.py:
core.denoisers.UNet (the DDPMs' network, same size) predicting the velocity v(x_t, t) of straight
noise-to-data paths (core.flow's convention: t = 0 noise, t = 1 data). The network's time input
is t * TIME_SCALE, so that its sinusoidal time embedding sees the same range as the DDPM's
timesteps 0..999.
"""

from __future__ import annotations

import torch

from core.denoisers import UNet

TIME_SCALE = 1000.0


def velocity_field(unet: UNet, labels: torch.Tensor):
    """v(x, t) for a batch whose classes are `labels` (NULL_CLASS: unconditional), t in [0, 1]."""

    @torch.no_grad()
    def v(x: torch.Tensor, t: float) -> torch.Tensor:
        return unet(x, t * TIME_SCALE, class_labels=labels)

    return v
