"""GFPGAN's colour steps on the LQ face (``FFHQDegradationDataset.__getitem__``): a random colour shift
(``color_jitter``: each channel + U(-shift, shift)/255, clipped) and conversion to gray (OpenCV's
``COLOR_BGR2GRAY`` weights, the gray copied to the three channels), each on the samples whose flag is set."""
from __future__ import annotations

import torch
from torch import Tensor

#: ITU-R 601 luma weights of R, G, B, as OpenCV's BGR2GRAY uses
GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def colour_shift(x: Tensor, on: Tensor, shift: Tensor) -> Tensor:
    """(B,3,H,W) ``x`` + (B,3) ``shift`` (already in [0, 1] units) where ``on`` ((B,) bool), clipped to [0, 1]."""
    rows = on.to(x.device).nonzero()[:, 0]  # only the samples that drew it (a sample's values are its own)
    out = x.clone()
    out[rows] = (x[rows] + shift.to(x.device, x.dtype)[rows][:, :, None, None]).clamp(0.0, 1.0)
    return out


def to_gray(x: Tensor, on: Tensor) -> Tensor:
    """The luma of (B,3,H,W) ``x`` in all three channels where ``on`` ((B,) bool); ``x`` elsewhere."""
    rows = on.to(x.device).nonzero()[:, 0]
    red, green, blue = GRAY_WEIGHTS
    part = x[rows]
    out = x.clone()
    out[rows] = (red * part[:, 0:1] + green * part[:, 1:2] + blue * part[:, 2:3]).expand_as(part)
    return out
