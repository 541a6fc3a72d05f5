"""Rounding to 8-bit levels, as Real-ESRGAN does at the end of its degradation (``feed_data``)."""
from __future__ import annotations

from torch import Tensor

from ..core.quantize import quantize8


def round_to_8bit(x: Tensor) -> Tensor:
    """Clamp to [0, 1] and round to the nearest of the 256 levels k/255 (``core.quantize.quantize8``)."""
    return quantize8(x)
