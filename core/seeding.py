"""One seed control for every generative tab: the same seed gives the same initial noise.

Every sampler in the app draws its starting noise through `initial_noise`, on the CPU first and
then moved to the device, so a seed means the same numbers on a laptop and on a GPU, and the
diffusion and flow tabs start from identical x_T / x_0 for the same seed and shape.
Handlers never call torch.manual_seed: each gets its own `generator(seed)`.
"""

from __future__ import annotations

import torch

DEFAULT_SEED = 0
MAX_SEED = 2**31 - 1


def check_seed(seed: float | int | None) -> int:
    """A valid seed from UI input (a float from a number box, None when the box is empty)."""
    if seed is None:
        return DEFAULT_SEED
    if not float(seed).is_integer() or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"The seed must be a whole number between 0 and {MAX_SEED:,}.")
    return int(seed)


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with `seed` (CPU so that results do not depend on the device)."""
    return torch.Generator("cpu").manual_seed(check_seed(seed))


def initial_noise(seed: int, shape: tuple[int, ...], device: torch.device | str = "cpu") -> torch.Tensor:
    """Standard normal noise of `shape`, identical for the same seed in every tab and on every device."""
    return torch.randn(shape, generator=generator(seed)).to(device)
