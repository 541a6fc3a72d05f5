"""Checks at the chain boundary: a wrong batch fails loudly instead of producing a silent bad pair."""
from __future__ import annotations

import torch
from torch import Tensor


def check_image_batch(batch: object, name: str = "hq") -> Tensor:
    """Require a (B, 3, H, W) floating tensor with finite values in [0, 1]; return it."""
    if not isinstance(batch, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, 3, H, W), got {type(batch).__name__}")
    if batch.device.type == "meta":
        raise ValueError(f"{name} is a meta tensor (a shape without values); pass images on the CPU or a GPU")
    if batch.dim() != 4:
        raise ValueError(f"{name} must have shape (B, 3, H, W) (4 dimensions), got shape {tuple(batch.shape)}")
    if batch.shape[1] != 3:
        raise ValueError(f"{name} must have 3 (RGB) channels in dim 1, got shape {tuple(batch.shape)}; "
                         "convert grayscale/RGBA images to RGB first (degrade_stream.io.load_image does)")
    if not batch.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor in [0, 1], got dtype {batch.dtype}; "
                        "divide uint8 images by 255")
    if batch.shape[0] == 0 or batch.shape[2] == 0 or batch.shape[3] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(batch.shape)}")
    bad = ~torch.isfinite(batch)
    if bool(bad.any()):
        raise ValueError(f"{name} contains NaN or Inf values")
    lo, hi = torch.aminmax(batch)
    if float(lo) < -1e-6 or float(hi) > 1 + 1e-6:
        raise ValueError(f"{name} values must be in [0, 1], got range [{float(lo):.4g}, {float(hi):.4g}]; "
                         "divide 8-bit images by 255")
    return batch
