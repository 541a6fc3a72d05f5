"""Aligned random crop of (GT, LQ) pairs after synthesis, with flips and 90-degree rotation; the crop of
an HQ image to a multiple of the scale (so GT = scale x LQ exactly) that every entry point shares.

The same augmentation BasicSR applies in ``paired_random_crop`` + ``augment`` (hflip, vflip and
H/W transpose, each with probability 1/2), but batched on the device and drawn per sample from
its own seed, so a cache can hold whole sub-images while training sees fresh random crops.
"""
from __future__ import annotations

from typing import Any, Mapping, TypeVar

import numpy as np
import torch
from torch import Tensor

from ..core.random import SampleRandom

CROP_KEYS = ("gt_size", "flip", "rot90")

Image = TypeVar("Image", Tensor, np.ndarray)


def scale_multiple(height: int, width: int, scale: int) -> tuple[int, int]:
    """The largest (height, width) not above the given ones whose sides are multiples of ``scale``."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be an int >= 1, got {scale!r}")
    return height - height % scale, width - width % scale


def crop_to_scale(image: Image, scale: int, channels_last: bool = False) -> Image:
    """The top-left part of ``image`` whose sides are multiples of ``scale``, so GT = scale x LQ exactly.

    ``image`` is (..., H, W) (a tensor, e.g. (B, C, H, W)), or (H, W, ...) with ``channels_last`` (an HWC
    array as mmcv loads it). A view: nothing is copied.
    """
    if channels_last:
        height, width = scale_multiple(image.shape[0], image.shape[1], scale)
        return image[:height, :width]
    height, width = scale_multiple(image.shape[-2], image.shape[-1], scale)
    return image[..., :height, :width]


def check_crop_config(crop: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Validate ``crop=dict(gt_size=int, flip=bool, rot90=bool)``; defaults flip=True, rot90=True."""
    if crop is None:
        return None
    if not isinstance(crop, Mapping):
        raise ValueError(f"crop must be a dict like dict(gt_size=256, flip=True, rot90=True), got {crop!r}")
    unknown = sorted(set(crop) - set(CROP_KEYS))
    if unknown:
        raise ValueError(f"crop: unknown key(s) {unknown}; expected {list(CROP_KEYS)}")
    if "gt_size" not in crop:
        raise ValueError("crop: gt_size (the GT crop side in pixels) is required")
    size = crop["gt_size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"crop.gt_size must be a positive int, got {size!r}")
    out = {"gt_size": size, "flip": crop.get("flip", True), "rot90": crop.get("rot90", True)}
    for name in ("flip", "rot90"):
        if not isinstance(out[name], bool):
            raise ValueError(f"crop.{name} must be true/false, got {out[name]!r}")
    return out


def _gather_square(x: Tensor, top: Tensor, left: Tensor, size: int) -> Tensor:
    """Per-sample (size x size) windows at (top, left), by two gathers (no Python loop)."""
    b, c, _, w = x.shape
    offsets = torch.arange(size, device=x.device)
    rows = (top[:, None] + offsets)[:, None, :, None].expand(b, c, size, w)
    x = x.gather(2, rows)
    cols = (left[:, None] + offsets)[:, None, None, :].expand(b, c, size, size)
    return x.gather(3, cols)


def _augment(x: Tensor, hflip: Tensor, vflip: Tensor, transpose: Tensor) -> Tensor:
    x = torch.where(hflip[:, None, None, None], x.flip(-1), x)
    x = torch.where(vflip[:, None, None, None], x.flip(-2), x)
    return torch.where(transpose[:, None, None, None], x.transpose(-1, -2), x)


def paired_random_crop(gt: Tensor, lq: Tensor, seeds: Tensor, gt_size: int, flip: bool = True,
                       rot90: bool = True) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """Crop the same region of GT (gt_size) and LQ (gt_size / scale); returns (gt, lq, params).

    params (LQ pixel units): top, left (B,) int64; hflip, vflip, transpose (B,) bool.
    """
    b, _, height, width = gt.shape
    lq_h, lq_w = lq.shape[-2:]
    scale = height // lq_h
    if lq_h * scale != height or lq_w * scale != width or width // lq_w != scale:
        raise ValueError(f"crop: GT {height}x{width} is not an integer multiple of LQ {lq_h}x{lq_w}")
    if gt_size % scale:
        raise ValueError(f"crop.gt_size {gt_size} must be divisible by the chain scale {scale}")
    size = gt_size // scale
    if size > lq_h or size > lq_w:
        raise ValueError(f"crop.gt_size {gt_size} is larger than the images ({height}x{width})")
    rng = SampleRandom(seeds, device=gt.device)
    top = rng.randint(0, lq_h - size)
    left = rng.randint(0, lq_w - size)
    coins = rng.bernoulli(0.5, 3)
    no = torch.zeros(b, dtype=torch.bool, device=gt.device)
    hflip, vflip = (coins[:, 0], coins[:, 1]) if flip else (no, no)
    transpose = coins[:, 2] if rot90 else no
    gt_out = _augment(_gather_square(gt, top * scale, left * scale, gt_size), hflip, vflip, transpose)
    lq_out = _augment(_gather_square(lq, top, left, size), hflip, vflip, transpose)
    return gt_out, lq_out, {"top": top, "left": left, "hflip": hflip, "vflip": vflip, "transpose": transpose}
