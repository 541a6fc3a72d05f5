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
    shifted = (x + shift.to(x.device, x.dtype)[:, :, None, None]).clamp(0.0, 1.0)
    return torch.where(on.to(x.device)[:, None, None, None], shifted, x)


def to_gray(x: Tensor, on: Tensor) -> Tensor:
    """The luma of (B,3,H,W) ``x`` in all three channels where ``on`` ((B,) bool); ``x`` elsewhere."""
    red, green, blue = GRAY_WEIGHTS
    luma = red * x[:, 0:1] + green * x[:, 1:2] + blue * x[:, 2:3]
    return torch.where(on.to(x.device)[:, None, None, None], luma.expand_as(x), x)
