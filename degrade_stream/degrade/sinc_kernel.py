"""The circular low-pass (2-D sinc) kernel of Real-ESRGAN (Wang et al. 2021, Eq. 3):
k(i, j) = omega_c / (2 pi r) * J1(omega_c r), r = |(i, j) - centre|, with value omega_c^2 / (4 pi) at r = 0.
Used to simulate ringing and overshoot; built on the device in float64 and rounded once to float32, as BasicSR
builds it with SciPy's ``j1`` (basicsr/data/degradations.py ``circular_lowpass_kernel``).

J1 is Bessel's integral J1(x) = (1/pi) int_0^pi cos(t - x sin t) dt, by the midpoint rule with 48 nodes (the
96-node rule over the whole, symmetric period): for a periodic analytic integrand the rule's error is the aliased
J_{1+-96}(x), below 1e-15 for |x| <= 50 (the kernels need |x| <= pi * 10 sqrt(2) ~ 44); measured within 3e-15 of
SciPy's ``j1`` on [0, 50]. ``torch.special.bessel_j1`` is off by up to 5e-7 near x = 5 in float64 (measured), which
shows in the kernel. J1 is evaluated once per distinct radius of the grid (66 of the 441 cells at 21 x 21).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .kernel_grid import kernel_grid, mask_and_normalise


_J1_NODES = 48  # over half a period: the integrand is symmetric, so this is the 96-node rule over a whole one
_RADII: dict[tuple[int, torch.device], tuple[Tensor, Tensor]] = {}


def bessel_j1(x: Tensor) -> Tensor:
    """J1(x) elementwise by Bessel's integral (1/pi) int_0^pi cos(t - x sin t) dt (midpoint rule), in ``x``'s dtype."""
    t = (torch.arange(_J1_NODES, dtype=x.dtype, device=x.device) + 0.5) * (math.pi / _J1_NODES)
    return torch.cos(t - x[..., None] * torch.sin(t)).mean(-1)


def _radii(pad: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """The distinct float64 radii of a pad x pad grid and each cell's index among them (made once per size)."""
    key = (pad, device)
    if key not in _RADII:
        x, y = kernel_grid(pad, "cpu", torch.float64)
        radii, index = torch.unique(torch.sqrt(x * x + y * y), return_inverse=True)
        _RADII[key] = (radii.to(device), index.to(device))
    return _RADII[key]


def sinc_kernel_values(omega: Tensor, pad: int) -> Tensor:
    """(B, pad, pad) unnormalised sinc kernels for (B,) cutoffs ``omega`` (in its dtype; float64 for BasicSR's
    values); J1 is evaluated once per distinct radius of the grid."""
    radii, index = _radii(pad, omega.device)
    r = radii.to(omega.dtype)[None]
    om = omega[:, None]
    r_safe = torch.where(r == 0, torch.ones_like(r), r)
    values = om * bessel_j1(om * r_safe) / (2 * math.pi * r_safe)
    values = torch.where(r == 0, om * om / (4 * math.pi), values)  # (B, distinct radii)
    return values[:, index]


def sinc_kernels(omega: Tensor, size: Tensor, pad_to: int = 21) -> Tensor:
    """(B, pad_to, pad_to) normalised sinc kernels of per-sample cutoff ``omega`` and odd ``size``, zero-padded
    (float64, rounded once to float32, as blur_kernels.py)."""
    kern = sinc_kernel_values(omega.to(torch.float64), pad_to)
    return mask_and_normalise(kern, size).to(torch.float32)
