"""Reflect padding that works for any pad width, even wider than the image.

``F.pad(mode="reflect")`` (used by BasicSR's ``filter2D`` and kornia's ``filter2d``) fails when the pad
is not smaller than the image side, e.g. a 21x21 kernel on a 9-pixel intermediate image. Here the
reflection is continued periodically (period 2(n-1)), which equals ``F.pad`` wherever that works.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _reflect_index(n: int, pad: int, device: torch.device) -> Tensor:
    """Source index for each of the n + 2*pad positions of a reflect-padded axis of length n."""
    pos = torch.arange(-pad, n + pad, device=device)
    if n == 1:
        return torch.zeros_like(pos)
    period = 2 * (n - 1)
    m = torch.remainder(pos, period)
    return torch.where(m >= n, period - m, m)


def reflect_pad(x: Tensor, pad: int) -> Tensor:
    """Pad the last two dims of ``x`` by ``pad`` on every side with mirror reflection (edge not repeated)."""
    if pad == 0:
        return x
    h, w = x.shape[-2:]
    if pad < h and pad < w:
        return F.pad(x, (pad, pad, pad, pad), mode="reflect")
    x = x.index_select(-2, _reflect_index(h, pad, x.device))
    return x.index_select(-1, _reflect_index(w, pad, x.device))
