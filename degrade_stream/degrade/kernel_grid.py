"""The pixel-offset grid that every blur kernel is evaluated on."""
from __future__ import annotations

import torch
from torch import Tensor


def kernel_grid(size: int, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
    """(size, size) x (column) and y (row) offsets from the centre of an odd grid (BasicSR ``mesh_grid``)."""
    ax = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    return ax[None, :].expand(size, size), ax[:, None].expand(size, size)
