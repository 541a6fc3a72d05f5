"""The pixel-offset grid that every blur kernel is evaluated on, and the centred square each is cut to."""
from __future__ import annotations

import torch
from torch import Tensor


def kernel_grid(size: int, device: torch.device | str | None = None,
                dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """(size, size) x (column) and y (row) offsets from the centre of an odd grid (BasicSR ``mesh_grid``)."""
    ax = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    return ax[None, :].expand(size, size), ax[:, None].expand(size, size)


def mask_and_normalise(kernels: Tensor, size: Tensor) -> Tensor:
    """(B, P, P) kernels set to zero outside each sample's centred ``size`` x ``size`` square ((B,) odd sizes,
    P odd) and scaled to sum to 1: a kernel of that size, zero-padded to P."""
    x, y = kernel_grid(kernels.shape[-1], kernels.device)
    half = (size.to(kernels.device, torch.float32)[:, None, None] - 1) / 2
    inside = (x.abs() <= half) & (y.abs() <= half)
    kernels = torch.where(inside, kernels, torch.zeros_like(kernels))
    return kernels / kernels.sum(dim=(-2, -1), keepdim=True)
