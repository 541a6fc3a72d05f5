"""GFPGAN's colour steps on the LQ face (TencentARC/GFPGAN gfpgan/data/ffhq_degradation_dataset.py,
``FFHQDegradationDataset.__getitem__``), each on the samples whose flag is set:

- ``colour_shift``: GFPGAN's ``color_jitter``, each channel + U(-shift, shift)/255, clipped to [0, 1];
- ``to_gray``: OpenCV's ``COLOR_BGR2GRAY`` weights, the gray copied to the three channels;
- ``colour_jitter_pt``: GFPGAN's ``color_jitter_pt``, torchvision's ``adjust_brightness``,
  ``adjust_contrast``, ``adjust_saturation`` and ``adjust_hue`` in a random order per sample (the functions
  GFPGAN calls, so given the same factors and order the result is GFPGAN's bit for bit).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

#: ITU-R 601 luma weights of R, G, B, as OpenCV's BGR2GRAY uses
GRAY_WEIGHTS = (0.299, 0.587, 0.114)
#: the steps of ``colour_jitter_pt``, in the index order of GFPGAN's ``torch.randperm(4)``
JITTER_STEPS = ("brightness", "contrast", "saturation", "hue")


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


def colour_jitter_pt(x: Tensor, on: Tensor, order: Tensor, factors: Tensor) -> Tensor:
    """GFPGAN's ``color_jitter_pt`` on the (B,3,H,W) RGB ``x`` where ``on`` ((B,) bool): the four steps of
    ``JITTER_STEPS`` in the sample's (B, 4) ``order``, step k with factor ``factors[:, k]`` ((B, 4))."""
    rows = on.nonzero()[:, 0].tolist()
    if not rows:
        return x
    steps = _adjust_functions()
    out = x.clone()
    for i in rows:  # each sample alone: torchvision takes one factor per call, and contrast uses the image mean
        img = x[i]
        for k in order[i].tolist():
            img = steps[k](img, float(factors[i, k]))
        out[i] = img
    return out


def _adjust_functions() -> tuple[Callable[[Tensor, float], Tensor], ...]:
    """torchvision's adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue (imported on first use)."""
    from ..compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    from torchvision.transforms import functional as tvf

    return tvf.adjust_brightness, tvf.adjust_contrast, tvf.adjust_saturation, tvf.adjust_hue
