"""Between mmagic's image conventions (HWC or CHW, 0..255, BGR or RGB) and degrade_stream's
(B, 3, H, W) RGB float in [0, 1]."""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def is_bgr(channel_order: object) -> bool:
    """mmagic's ``*_channel_order`` metadata: 'bgr'/'BGR' (its default when absent) or 'rgb'."""
    return channel_order is None or str(channel_order).lower() == "bgr"


def hwc_to_rgb01(image: np.ndarray, bgr: bool) -> Tensor:
    """(1, 3, H, W) float32 RGB in [0, 1] from an HWC 3-channel 0..255 array."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an HWC colour image with 3 channels, got shape {image.shape}; "
                         "load it with color_type='color'")
    x = torch.from_numpy(np.ascontiguousarray(image)).to(torch.float32).permute(2, 0, 1)[None] / 255.0
    return (x.flip(1) if bgr else x).clamp(0.0, 1.0).contiguous()


def rgb01_to_hwc(x: Tensor, bgr: bool, like: np.ndarray) -> np.ndarray:
    """An HWC 0..255 array in the channel order and dtype of ``like`` from (1, 3, H, W) RGB in [0, 1]."""
    x = (x.flip(1) if bgr else x)[0].permute(1, 2, 0) * 255.0
    if like.dtype == np.uint8:
        return x.round().clamp(0, 255).to(torch.uint8).numpy()
    return x.numpy().astype(like.dtype, copy=False)
