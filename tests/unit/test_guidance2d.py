"""The 2-D picture of guidance (core.guidance2d): the formula on velocities, and what it does to samples."""

from __future__ import annotations

import pytest
import torch

from core import guidance2d as g2


def test_guided_field_is_uncond_plus_scale_times_the_difference():
    one = g2.fields(2, 1.0, 0.5)
    torch.testing.assert_close(one.guided, one.cond)
    zero = g2.fields(2, 0.0, 0.5)
    torch.testing.assert_close(zero.guided, zero.uncond)
    four = g2.fields(2, 4.0, 0.3)
    torch.testing.assert_close(four.guided, four.uncond + 4 * (four.cond - four.uncond))


def test_guidance_sends_samples_to_the_chosen_mode():
    unconditional, conditional, guided = (g2.sample(5, s) for s in (0.0, 1.0, 3.0))
    assert unconditional.on_target < 0.3  # one mode of 8: about an eighth
    assert conditional.on_target > 0.85 and 0.7 < conditional.spread < 1.3  # the class's own spread
    assert guided.on_target >= conditional.on_target


def test_samples_are_seeded():
    assert torch.equal(g2.sample(1, 2.0, seed=3).path[-1], g2.sample(1, 2.0, seed=3).path[-1])


@pytest.mark.parametrize("args", [(8, 1.0), (-1, 1.0), (0, float("nan")), (0, 99.0), ("x", 1.0)])
def test_bad_class_or_scale_is_refused_with_a_sentence(args):
    with pytest.raises(ValueError, match=r"class|scale|numbers"):
        g2.sample(*args)
