"""Resizing with a per-sample interpolation mode, and Real-ESRGAN's per-sample random resize factor.

Modes follow Real-ESRGAN's random choice (area, bilinear, bicubic) plus nearest for BSRGAN's
shifted-kernel downsampler. ``antialias`` picks how bilinear/bicubic shrink:

- ``antialias=False``: plain ``F.interpolate`` (align_corners=False), as Real-ESRGAN's ``feed_data``
  (xinntao/Real-ESRGAN realesrgan/models/realesrgan_model.py): a fixed 2- or 4-tap filter at any scale,
  so shrinking aliases. That aliasing is part of Real-ESRGAN's LQ distribution.
- ``antialias=True``: torch's anti-aliased filters (PIL-style, support widened by the scale) when shrinking;
  the behaviour of every chain before issue 22, kept for the chains calibrated with it.

Up-scaling and ``area`` are the same either way. Samples that share an output size are resized together, one
``F.interpolate`` call per mode present in the batch (a loop over at most 4 groups, not over samples).
``interpolation_matrix`` gives any of these resizes (and Real-ESRGAN's ``scale_factor`` form) as a matrix
along one axis, for the ragged canvas (``canvas.py``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..core.random import SampleRandom
from .settings import ResizeSettings

MODES = ("area", "bilinear", "bicubic", "nearest")


def resize(x: Tensor, size: tuple[int, int], mode: str, antialias: bool = True) -> Tensor:
    """Resize (B,C,H,W) ``x`` to ``size`` = (h, w) with one ``mode``; anti-aliased when shrinking if ``antialias``."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == "area" or mode == "nearest":
        return F.interpolate(x, size=size, mode=mode)
    down = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=antialias and down)


def resize_per_sample(x: Tensor, size: tuple[int, int], mode: Tensor, antialias: bool = True) -> Tensor:
    """Resize every sample to ``size`` with its own mode index into ``MODES`` ((B,) int tensor)."""
    modes = mode.tolist()  # one small host read: output shapes and kernels depend on it
    present = sorted(set(modes))
    if len(present) == 1:
        return resize(x, size, MODES[present[0]], antialias)
    out = x.new_empty(x.shape[0], x.shape[1], *size)
    for m in present:
        idx = torch.tensor([i for i, v in enumerate(modes) if v == m], device=x.device)
        out[idx] = resize(x[idx], size, MODES[m], antialias)
    return out


def scaled_size(n: int, scale: float) -> int:
    """The length ``F.interpolate(scale_factor=scale)`` gives a side of ``n``: floor(n * scale) in float64."""
    return max(1, int(float(n) * float(scale)))


def interpolation_matrix(n_in: int, n_out: int, mode: str, antialias: bool, scale: float | None,
                         device: torch.device, dtype: torch.dtype) -> Tensor:
    """(n_out, n_in) matrix M such that M @ v resizes a length-n_in signal v to n_out, taken from ``F.interpolate``
    on an identity image (so it has torch's exact weights). ``scale`` set: Real-ESRGAN's first resize,
    ``F.interpolate(scale_factor=scale)`` without anti-aliasing, whose bilinear/bicubic sample positions follow
    1/scale rather than n_in/n_out (``n_out`` must then be ``scaled_size(n_in, scale)``)."""
    eye = torch.eye(n_in, device=device, dtype=dtype)[None, None]
    if scale is None:
        return resize(eye, (n_out, n_in), mode, antialias)[0, 0]
    if n_out != scaled_size(n_in, scale):
        raise ValueError(f"scale {scale} takes {n_in} pixels to {scaled_size(n_in, scale)}, not {n_out}")
    if scale == 1.0:
        return eye[0, 0]
    if int(float(n_in) * float(scale)) < 1:  # F.interpolate would give an empty image: one pixel, by size
        return resize(eye, (1, n_in), mode, antialias=False)[0, 0]
    corners = {} if mode in ("area", "nearest") else {"align_corners": False}
    return F.interpolate(eye, scale_factor=(float(scale), 1.0), mode=mode, **corners)[0, 0]


def sample_resize_factor(rng: SampleRandom, settings: ResizeSettings) -> Tensor:
    """(B,) factors: up U(1, max) / down U(min, 1) / keep 1, weighted by ``settings.direction_probs``
    (Real-ESRGAN ``updown_type``)."""
    direction = rng.categorical(list(settings.direction_probs))
    up = rng.uniform(low=1.0, high=settings.factor_range[1])
    down = rng.uniform(low=settings.factor_range[0], high=1.0)
    return torch.where(direction == 0, up, torch.where(direction == 1, down, torch.ones_like(up)))
