"""The plain bicubic model: x = (y) downsampled by ``scale`` (the paper's "bicubic" handcrafted model).

Uses torch's anti-aliased bicubic (a = -0.5, support widened by the scale), which approximates MATLAB's
``imresize`` used to make the standard SR benchmarks; the result is rounded to 8 bit as a saved LR image.
"""
from __future__ import annotations

from torch import Tensor

from ..core.registry import register
from ..core.transform import Params
from .model_base import DegradationModel, Scale
from .resize import resize


@register("bicubic")
class Bicubic(DegradationModel):
    """Deterministic x``scale`` anti-aliased bicubic downsampling, rounded to 8-bit levels."""

    def __init__(self, scale: Scale = 4, resize_back: bool = False) -> None:
        self._set_scale(scale, resize_back)

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        return self.finish(resize(batch, self.lq_size(batch), "bicubic"), batch)
