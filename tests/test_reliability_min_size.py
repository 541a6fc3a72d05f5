"""The smallest image a chain accepts (what synthesize plans with) is exact: one pixel less fails."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds
from degrade_stream.core.config import named_configs
from degrade_stream.core.transform import Transform
from degrade_stream.degrade.face import MIN_LQ_SIDE as FACE_MIN_LQ_SIDE, FaceDegradation

HANDCRAFTED = [n for n in named_configs("chains") if "ddpm" not in n]
CUSTOM = {
    "resize_then_model": ({"stages": [{"type": "resize", "scale": 2}, {"type": "bicubic", "scale": 2}]}, 32),
    "model_then_resize": ({"stages": [{"type": "bicubic", "scale": 2}, {"type": "resize", "scale": 3}]}, 16),
    "resize_back": ({"stages": [{"type": "classical", "scale": 3, "resize_back": True}, {"type": "resize",
                                                                                        "scale": 2}]}, 24),
    "blocks_only": ({"stages": [{"type": "blur"}, {"type": "jpeg"}]}, 1),
}


def _runs(chain: ds.Chain, height: int, width: int) -> bool:
    try:
        chain(torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(0)), seed=torch.tensor([1, 2]))
    except ValueError as err:
        assert "too small" in str(err)
        return False
    return True


def _expected(name: str) -> tuple[ds.Chain, int]:
    if name in CUSTOM:
        config, side = CUSTOM[name]
        return ds.load_chain(config), side
    chain = ds.load_chain(name)
    if any(isinstance(stage, FaceDegradation) for stage in chain.stages):  # an LQ of FACE_MIN_LQ_SIDE px at the largest factor
        face = next(stage for stage in chain.stages if isinstance(stage, FaceDegradation))
        factor = max(face.downsample[1], face.downsample_large[1] if face.large_prob > 0 else 0.0)
        return chain, int(-(-FACE_MIN_LQ_SIDE * factor // 1))
    # a model stage's LQ is 1/lq_scale of its input, also when resized back (realesrgan_face: scale 1, LQ made at 1/4)
    lq_scale = max([getattr(stage, "lq_scale", 1) for stage in chain.stages] + [chain.scale])
    return chain, 1 if lq_scale == 1 else 8 * lq_scale


@pytest.mark.parametrize("name", HANDCRAFTED + list(CUSTOM))
def test_min_side_runs_and_one_pixel_less_fails(name):
    chain, side = _expected(name)
    assert chain.min_input_side == side
    assert _runs(chain, side, side) and _runs(chain, side, side + 5)
    if side > 1:
        assert not _runs(chain, side - 1, side) and not _runs(chain, side, side - 1)


class _NeedsFifty(Transform):
    """A plugin-style stage (not registered: no global leftovers) that states its own bound."""

    min_input_side = 50

    def apply(self, batch, params):
        return batch


def test_a_plugin_stage_states_its_own_bound():
    bicubic = ds.load_chain("bicubic").stages[0]
    assert ds.Chain([_NeedsFifty(), bicubic]).min_input_side == 50
    assert ds.Chain([bicubic, _NeedsFifty()]).min_input_side == 50 * 4


def test_every_built_in_stage_states_its_bound_through_the_protocol():
    """Each stage says its own minimum (no list of classes elsewhere): a resize needs its scale, a model stage an
    LQ of 8 px at its scale (also when resized back), the blocks and the refiner any size."""
    chain = ds.load_chain({"stages": [{"type": "resize", "scale": 3}, {"type": "classical", "scale": 2,
                                                                       "resize_back": True}, {"type": "blur"}]})
    assert [stage.min_input_side for stage in chain.stages] == [3, 16, 1]
    assert chain.min_input_side == 48
