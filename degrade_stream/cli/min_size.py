"""The smallest HQ side a chain accepts, so the offline writer can skip too-small images up front.

Two kinds of stage refuse small inputs: the degradation models (an LQ of at least MIN_LQ_SIDE px per
side, i.e. MIN_LQ_SIDE x their scale on the input) and ``resize`` (at least its scale). Every other
built-in stage takes any size (blur and refine pad). A plugin stage can state its own bound with a
``min_input_side`` attribute. Sizes shrink by each stage's ``scale``, so the bound is folded from
the last stage back to the first: stage k needs max(its own bound, (what stage k+1 needs) x its scale).
"""
from __future__ import annotations

from ..core.chain import Chain
from ..core.transform import Transform
from ..degrade.blocks import Resize
from ..degrade.model_base import MIN_LQ_SIDE, DegradationModel


def stage_min_side(stage: Transform) -> int:
    """The smallest input side ``stage`` accepts on its own (its ``min_input_side`` when it states one)."""
    declared = getattr(stage, "min_input_side", None)
    if declared is not None:
        return max(1, int(declared))
    if isinstance(stage, DegradationModel):
        return MIN_LQ_SIDE * stage.lq_scale
    if isinstance(stage, Resize):
        return stage.scale
    return 1


def chain_min_side(chain: Chain) -> int:
    """The smallest height and width (each) of an HQ image that every stage of ``chain`` accepts."""
    need = 1
    for stage in reversed(chain.stages):
        need = max(stage_min_side(stage), need * max(1, int(getattr(stage, "scale", 1))))
    return need
