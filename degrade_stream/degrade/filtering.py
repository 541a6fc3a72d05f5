"""Convolve each sample with its own kernel in one grouped convolution (BasicSR's ``filter2D``), and a
fast separable filter for large shared kernels (USM's 51-tap Gaussian)."""
from __future__ import annotations

import torch
from kornia.filters import filter2d
from torch import Tensor

from .padding import reflect_pad


def filter_per_sample(x: Tensor, kernels: Tensor) -> Tensor:
    """Filter (B,C,H,W) ``x`` with (B,k,k) ``kernels`` (k odd), reflect-padded so the size is kept.

    Same arithmetic as BasicSR's ``filter2D`` (reflect padding, cross-correlation); kornia's
    ``filter2d`` runs the grouped convolution, the padding is ours so images smaller than the kernel work.
    """
    k = kernels.shape[-1]
    if kernels.dim() != 3 or kernels.shape[-2] != k or k % 2 == 0 or kernels.shape[0] not in (1, x.shape[0]):
        raise ValueError(f"expected (B, k, k) kernels with odd k and B={x.shape[0]}, got {tuple(kernels.shape)}")
    return filter2d(reflect_pad(x, k // 2), kernels.to(x.dtype), padding="valid")


def _band_matrix(kernel_1d: Tensor, n: int) -> Tensor:
    """(n + k - 1, n) matrix M with M[j + t, j] = kernel[t]: a 'valid' 1-D correlation as a matmul."""
    k = kernel_1d.shape[0]
    rows = torch.arange(n, device=kernel_1d.device)[None, :] + torch.arange(k, device=kernel_1d.device)[:, None]
    cols = torch.arange(n, device=kernel_1d.device)[None, :].expand(k, n)
    band = torch.zeros(n + k - 1, n, device=kernel_1d.device, dtype=kernel_1d.dtype)
    band[rows, cols] = kernel_1d[:, None].expand(k, n)
    return band


def filter_separable(x: Tensor, kernel_1d: Tensor) -> Tensor:
    """Filter with the same odd 1-D kernel (k,) along rows and columns, reflect-padded (size kept).

    Written as two matrix products with banded matrices: for wide kernels (k = 51) this is ~8x
    faster on CPU than depthwise ``conv2d`` (which neither torch nor kornia vectorise well there).
    Each (sample, channel) plane gets its own product (``bmm``), so its arithmetic has the same shape
    alone or in any batch.
    """
    k = kernel_1d.shape[-1]
    *lead, h, w = x.shape
    kern = kernel_1d.to(device=x.device, dtype=x.dtype)
    padded = reflect_pad(x, k // 2).reshape(-1, h + k - 1, w + k - 1)
    n = padded.shape[0]
    rows = torch.bmm(padded, _band_matrix(kern, w).expand(n, w + k - 1, w))  # (N, H + k - 1, W)
    out = torch.bmm(_band_matrix(kern, h).transpose(0, 1).expand(n, h, h + k - 1), rows)
    return out.reshape(*lead, h, w)
