"""Convolve each sample with its own kernel in one grouped convolution (BasicSR's ``filter2D``), and a
fast separable filter for large 1-D kernels (USM's 51-tap Gaussian), shared or per sample."""
from __future__ import annotations

import torch
import torch.nn.functional as F
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


#: Width of the output tiles of ``filter_separable``: each tile is one (T + k - 1) x T band product, so a pixel
#: costs T + k - 1 multiply-adds (114 for USM's k = 51) at any image size, in matrix-product form.
TILE = 64


def _band_matrix(kernel_1d: Tensor, n: int) -> Tensor:
    """(.., n + k - 1, n) matrices M with M[j + t, j] = kernel[t]: a 'valid' 1-D correlation as a matmul;
    ``kernel_1d`` is (k,) or (B, k) (one matrix per sample)."""
    k = kernel_1d.shape[-1]
    dev = kernel_1d.device
    rows = torch.arange(n, device=dev)[None, :] + torch.arange(k, device=dev)[:, None]
    cols = torch.arange(n, device=dev)[None, :].expand(k, n)
    band = torch.zeros(*kernel_1d.shape[:-1], n + k - 1, n, device=dev, dtype=kernel_1d.dtype)
    band[..., rows, cols] = kernel_1d[..., :, None].expand(*kernel_1d.shape[:-1], k, n)
    return band


def _correlate_last_dim(planes: Tensor, bands: Tensor, k: int, n_out: int) -> Tensor:
    """'valid' correlation along the last dim of (N, R, n_out + k - 1) ``planes`` with (N, T + k - 1, T) tile
    ``bands``: the output is cut into tiles of T, each the product of its (T + k - 1)-wide input window with the
    band, one ``bmm`` per plane (so a plane's arithmetic has the same shape alone or in any batch)."""
    n, r, length = planes.shape
    tiles = -(-n_out // TILE)
    need = tiles * TILE + k - 1
    if need > length:  # zeros past the end only reach outputs past n_out, which are cut off
        planes = F.pad(planes, (0, need - length))
    windows = planes.unfold(-1, TILE + k - 1, TILE).reshape(n, r * tiles, TILE + k - 1)
    return torch.bmm(windows, bands).reshape(n, r, tiles * TILE)[..., :n_out]


def filter_separable(x: Tensor, kernel_1d: Tensor) -> Tensor:
    """Filter (B,C,H,W) ``x`` with an odd 1-D kernel along rows and then columns, reflect-padded (size kept):
    ``kernel_1d`` is (k,), shared, or (B, k), one per sample.

    A true separable filter (k taps per pass) written as tiled band products: each output tile of TILE pixels
    is a (TILE + k - 1)-tap window times a (TILE + k - 1, TILE) band matrix, so the cost per pixel is TILE + k - 1
    multiply-adds whatever the image size (one dense band over a whole row costs W + k - 1, ~80% of a dense
    k x k convolution at 1024 px), at matrix-product speed: on CPU several times faster than a depthwise
    ``conv2d`` with a 1 x 51 kernel, which neither torch nor kornia vectorise well there.
    """
    k = kernel_1d.shape[-1]
    b, c, h, w = x.shape
    if k % 2 == 0 or kernel_1d.dim() not in (1, 2) or (kernel_1d.dim() == 2 and kernel_1d.shape[0] != b):
        raise ValueError(f"expected an odd (k,) or (B={b}, k) kernel, got {tuple(kernel_1d.shape)}")
    kern = kernel_1d.to(device=x.device, dtype=x.dtype)
    band = _band_matrix(kern, TILE)
    per_plane = band.expand(b * c, *band.shape[-2:]) if kern.dim() == 1 else band.repeat_interleave(c, 0)
    padded = reflect_pad(x, k // 2).reshape(b * c, h + k - 1, w + k - 1)
    rows = _correlate_last_dim(padded, per_plane, k, w)  # (B*C, H + k - 1, W)
    cols = _correlate_last_dim(rows.transpose(1, 2), per_plane, k, h)  # (B*C, W, H)
    return cols.transpose(1, 2).reshape(b, c, h, w)
