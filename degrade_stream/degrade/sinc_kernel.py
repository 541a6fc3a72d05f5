"""The circular low-pass (2-D sinc) kernel of Real-ESRGAN (Wang et al. 2021, Eq. 3):
k(i, j) = omega_c / (2 pi r) * J1(omega_c r), r = |(i, j) - centre|, with value omega_c^2 / (4 pi) at r = 0.
Used to simulate ringing and overshoot; built on the device in float64 and rounded once to float32, as BasicSR
builds it with SciPy's ``j1`` (basicsr/data/degradations.py ``circular_lowpass_kernel``).

J1 is Bessel's integral J1(x) = (1/2pi) int cos(t - x sin t) dt over a period, by the midpoint rule with 128 nodes:
for a periodic analytic integrand the rule's error is the aliased J_{1+-128}(x), below 1e-15 for |x| <= 80 (the
kernels need |x| <= pi * 10 sqrt(2) ~ 44); measured within 3e-15 of SciPy's ``j1`` on [0, 80].
``torch.special.bessel_j1`` is off by up to 5e-7 near x = 5 in float64 (also measured), which shows in the kernel.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .kernel_grid import kernel_grid, mask_and_normalise


_J1_NODES = 128


def bessel_j1(x: Tensor) -> Tensor:
    """J1(x) elementwise by Bessel's integral (midpoint rule, ``_J1_NODES`` nodes), in ``x``'s dtype."""
    t = (torch.arange(_J1_NODES, dtype=x.dtype, device=x.device) + 0.5) * (2 * math.pi / _J1_NODES)
    return torch.cos(t - x[..., None] * torch.sin(t)).mean(-1)


def sinc_kernel_values(omega: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """Unnormalised sinc kernel at offsets (x, y); ``omega`` broadcasts against them (e.g. (B,1,1))."""
    r = torch.sqrt(x * x + y * y)
    r_safe = torch.where(r == 0, torch.ones_like(r), r)
    values = omega * bessel_j1(omega * r_safe) / (2 * math.pi * r_safe)
    return torch.where(r == 0, omega * omega / (4 * math.pi), values)


def sinc_kernels(omega: Tensor, size: Tensor, pad_to: int = 21) -> Tensor:
    """(B, pad_to, pad_to) normalised sinc kernels of per-sample cutoff ``omega`` and odd ``size``, zero-padded."""
    x, y = kernel_grid(pad_to, omega.device, torch.float64)  # float64, rounded once (as blur_kernels.py)
    om = omega.to(torch.float64)[:, None, None]
    kern = sinc_kernel_values(om, x[None], y[None])
    return mask_and_normalise(kern, size).to(torch.float32)
