"""The circular low-pass (2-D sinc) kernel of Real-ESRGAN (Wang et al. 2021, Eq. 3):
k(i, j) = omega_c / (2 pi r) * J1(omega_c r), r = |(i, j) - centre|, with value omega_c^2 / (4 pi) at r = 0.
Used to simulate ringing and overshoot; built on the device with ``torch.special.bessel_j1``.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .kernel_grid import kernel_grid, mask_and_normalise


def sinc_kernel_values(omega: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """Unnormalised sinc kernel at offsets (x, y); ``omega`` broadcasts against them (e.g. (B,1,1))."""
    r = torch.sqrt(x * x + y * y)
    r_safe = torch.where(r == 0, torch.ones_like(r), r)
    values = omega * torch.special.bessel_j1(omega * r_safe) / (2 * math.pi * r_safe)
    return torch.where(r == 0, omega * omega / (4 * math.pi), values)


def sinc_kernels(omega: Tensor, size: Tensor, pad_to: int = 21) -> Tensor:
    """(B, pad_to, pad_to) normalised sinc kernels of per-sample cutoff ``omega`` and odd ``size``, zero-padded."""
    x, y = kernel_grid(pad_to, omega.device)
    om = omega.to(torch.float32)[:, None, None]
    kern = sinc_kernel_values(om, x[None], y[None])
    return mask_and_normalise(kern, size)
