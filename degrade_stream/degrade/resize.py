"""Resizing with a per-sample interpolation mode, and Real-ESRGAN's per-sample random resize factor.

Modes follow Real-ESRGAN's random choice (area, bilinear, bicubic) plus nearest for BSRGAN's
shifted-kernel downsampler. Down-scaling with bilinear/bicubic uses torch's anti-aliased filters
(PIL-style, as the issue asks; Real-ESRGAN itself resizes without anti-aliasing); up-scaling is plain
``F.interpolate`` (align_corners=False). Samples that share an output size are resized together, one
``F.interpolate`` call per mode present in the batch (a loop over at most 4 groups, not over samples).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..core.random import SampleRandom
from .settings import ResizeSettings

MODES = ("area", "bilinear", "bicubic", "nearest")


def resize(x: Tensor, size: tuple[int, int], mode: str) -> Tensor:
    """Resize (B,C,H,W) ``x`` to ``size`` = (h, w) with one ``mode``; anti-aliased when shrinking."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == "area" or mode == "nearest":
        return F.interpolate(x, size=size, mode=mode)
    down = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=down)


def resize_per_sample(x: Tensor, size: tuple[int, int], mode: Tensor) -> Tensor:
    """Resize every sample to ``size`` with its own mode index into ``MODES`` ((B,) int tensor)."""
    modes = mode.tolist()  # one small host read: output shapes and kernels depend on it
    present = sorted(set(modes))
    if len(present) == 1:
        return resize(x, size, MODES[present[0]])
    out = x.new_empty(x.shape[0], x.shape[1], *size)
    for m in present:
        idx = torch.tensor([i for i, v in enumerate(modes) if v == m], device=x.device)
        out[idx] = resize(x[idx], size, MODES[m])
    return out



def sample_resize_factor(rng: SampleRandom, settings: ResizeSettings) -> Tensor:
    """(B,) factors: up U(1, max) / down U(min, 1) / keep 1, weighted by ``settings.direction_probs``
    (Real-ESRGAN ``updown_type``)."""
    direction = rng.categorical(list(settings.direction_probs))
    up = rng.uniform(low=1.0, high=settings.factor_range[1])
    down = rng.uniform(low=settings.factor_range[0], high=1.0)
    return torch.where(direction == 0, up, torch.where(direction == 1, down, torch.ones_like(up)))
