"""What the four degradation models share: the scale argument, resize-back, and the size check."""
from __future__ import annotations

from typing import Annotated

from torch import Tensor

from ..core.quantize import quantize8
from ..core.transform import Transform
from ..core.validate import Bounds
from .resize import resize

#: The LQ output must keep at least this many pixels per side (one JPEG block).
MIN_LQ_SIDE = 8
#: The ``scale`` argument of a model stage (checked by the stage's annotation, core/validate.py).
Scale = Annotated[int, Bounds(low=1, high=8)]


class DegradationModel(Transform):
    """Base of the model stages: ``scale`` (HQ/LQ size ratio) and ``resize_back`` (same-size LQ)."""

    def _set_scale(self, scale: int, resize_back: bool) -> None:
        """``scale``: a checked ``Scale`` argument, or a camera model's (checked when the model is loaded)."""
        self.lq_scale = scale
        self.resize_back = resize_back
        # the chain's scale reflects the output size: 1 when the LQ is resized back to the HQ size
        self.scale = 1 if resize_back else self.lq_scale

    @property
    def min_input_side(self) -> int:
        """An LQ of MIN_LQ_SIDE px per side at this model's scale."""
        return MIN_LQ_SIDE * self.lq_scale

    def lq_size(self, batch: Tensor) -> tuple[int, int]:
        """(h, w) of the LQ before any resize-back; a clear error when the input is too small."""
        h, w = batch.shape[-2:]
        need = self.min_input_side
        if h < need or w < need:
            raise ValueError(f"{self.type_name}: input {h}x{w} is too small for scale {self.lq_scale}: "
                             f"needs at least {need}x{need} (an LQ of {MIN_LQ_SIDE}x{MIN_LQ_SIDE} or more)")
        return h // self.lq_scale, w // self.lq_scale

    def finish(self, lq: Tensor, hq: Tensor) -> Tensor:
        """Round to 8 bit; with ``resize_back``, bicubic-resize to the HQ size and round again."""
        lq = quantize8(lq)
        if self.resize_back and lq.shape[-2:] != hq.shape[-2:]:
            lq = quantize8(resize(lq, tuple(hq.shape[-2:]), "bicubic"))
        return lq
