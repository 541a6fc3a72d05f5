"""8-bit quantisation, written once: every place that rounds an image to the 256 levels k/255 calls this.

Clamp to [0, 1] first, then round half to even (``torch.round``): a PNG, the pair cache's raw uint8
entries and Real-ESRGAN's final ``torch.clamp((out * 255.0).round(), 0, 255) / 255.`` (BasicSR
``RealESRGANModel.feed_data``) all hold exactly these levels.
"""
from __future__ import annotations

import torch
from torch import Tensor


def levels8(x: Tensor) -> Tensor:
    """The 8-bit level in {0, ..., 255} of each value of a [0, 1] image, as a float tensor (clamped first)."""
    return torch.round(x.clamp(0.0, 1.0) * 255.0)


def quantize8(x: Tensor) -> Tensor:
    """Clamp to [0, 1] and round to the nearest of the 256 levels k/255 (what an 8-bit file stores exactly)."""
    return levels8(x) / 255.0


def uint8_levels(x: Tensor) -> Tensor:
    """The 8-bit levels of a [0, 1] image as a uint8 tensor (same shape and device)."""
    return levels8(x).to(torch.uint8)
