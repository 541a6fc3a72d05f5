"""Random blur kernels as in Real-ESRGAN (Wang et al. 2021, Sec. 3.1), sampled and built on the device.

Kinds: isotropic/anisotropic Gaussian (Eq. 1), generalized Gaussian and plateau kernels (Sec. 3.1),
and the circular low-pass ``sinc`` kernel (Eq. 3, see ``sinc_kernel.py``). Parameters are drawn per
sample as (B,) tensors; kernels are built from them as a (B, size, size) batch, each sample's kernel
centred and zero-padded to the common ``size``, so one grouped convolution filters the whole batch.
Closed forms follow BasicSR's ``basicsr/data/degradations.py`` (same parameterisation of the
covariance, beta and plateau shape), so distributions can be compared with ``random_mixed_kernels``.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..core.random import SampleRandom
from .kernel_grid import kernel_grid, mask_and_normalise
from .settings import KINDS, BlurSettings
from .sinc_kernel import sinc_kernel_values

#: the kind index of a sinc kernel, after ``settings.KINDS`` (drawn separately, with ``sinc_prob``)
SINC = len(KINDS)


def sample_blur_params(rng: SampleRandom, settings: BlurSettings) -> dict[str, Tensor]:
    """Per-sample kernel parameters, each (B,): kind, size (odd), sigma_x, sigma_y, theta, beta, omega."""
    sizes = torch.arange(settings.size_range[0], settings.size_range[1] + 1, 2, device=rng.device)
    size = sizes[rng.randint(0, len(sizes) - 1)]
    kind = rng.categorical(list(settings.kind_probs))
    is_sinc = rng.bernoulli(settings.sinc_prob)
    kind = torch.where(is_sinc, torch.full_like(kind, SINC), kind)
    sigma_lo, sigma_hi = settings.sigma_range
    sigma_x = rng.uniform(low=sigma_lo, high=sigma_hi)
    sigma_y = rng.uniform(low=sigma_lo, high=sigma_hi)
    theta = rng.uniform(low=-math.pi, high=math.pi)
    isotropic = (kind == 0) | (kind == 2) | (kind == 4)
    sigma_y = torch.where(isotropic, sigma_x, sigma_y)
    theta = torch.where(isotropic, torch.zeros_like(theta), theta)
    # beta: half the time below 1, half above (BasicSR random_bivariate_generalized_Gaussian / _plateau)
    below = rng.bernoulli(0.5)
    u = rng.uniform()
    generalized = (kind == 2) | (kind == 3)
    beta_lo = torch.where(generalized, settings.betag_range[0], settings.betap_range[0])
    beta_hi = torch.where(generalized, settings.betag_range[1], settings.betap_range[1])
    beta = torch.where(below, beta_lo + (1.0 - beta_lo) * u, 1.0 + (beta_hi - 1.0) * u)
    # sinc cutoff: U(pi/3, pi) for kernels smaller than 13, else U(pi/5, pi) (Real-ESRGAN dataset code)
    u = rng.uniform()
    omega_lo = torch.where(size < 13, math.pi / 3, math.pi / 5)
    omega = omega_lo + (math.pi - omega_lo) * u
    return {"kind": kind, "size": size, "sigma_x": sigma_x, "sigma_y": sigma_y, "theta": theta,
            "beta": beta, "omega": omega}


def build_blur_kernels(params: dict[str, Tensor], size: int = 21) -> Tensor:
    """(B, size, size) normalised float32 kernels from ``sample_blur_params`` output, zero outside each sample's
    size. Computed in float64 and rounded once, as BasicSR builds them with numpy before ``torch.FloatTensor``:
    for the same parameters they equal BasicSR's bit for bit (the sinc kernel's J1 agrees with SciPy's to ~1e-15,
    which can still flip the float32 rounding of a value; tests/test_degrade_kernels.py)."""
    kind = params["kind"]
    device = kind.device
    x, y = kernel_grid(size, device, torch.float64)
    x, y = x[None], y[None]
    col = lambda t: t.to(device=device, dtype=torch.float64)[:, None, None]  # noqa: E731
    sx, sy, th, beta = col(params["sigma_x"]), col(params["sigma_y"]), col(params["theta"]), col(params["beta"])
    # Q = [x y] Sigma^-1 [x y]^T with Sigma = R diag(sx^2, sy^2) R^T (BasicSR sigma_matrix2)
    c, s = torch.cos(th), torch.sin(th)
    u = c * x + s * y  # coordinates in the rotated frame
    v = -s * x + c * y
    q = (u / sx) ** 2 + (v / sy) ** 2
    kind3 = kind[:, None, None]
    gauss = torch.exp(-0.5 * q)
    generalized = torch.exp(-0.5 * q.clamp_min(0).pow(beta))
    plateau = 1.0 / (q.clamp_min(0).pow(beta) + 1.0)
    kern = torch.where(kind3 <= 1, gauss, torch.where(kind3 <= 3, generalized, plateau))
    sinc_rows = torch.nonzero(kind == SINC)[:, 0]  # a small host read: the sinc kernels are made for those rows only
    if sinc_rows.numel():
        omega = params["omega"].to(device, torch.float64)[sinc_rows]
        kern = kern.index_copy(0, sinc_rows, sinc_kernel_values(omega, size))
    return mask_and_normalise(kern, params["size"]).to(torch.float32)


def crop_kernel(kernel: Tensor, size: int) -> Tensor:
    """The centred (.., size, size) part of zero-padded kernels."""
    off = (kernel.shape[-1] - size) // 2
    return kernel[..., off:off + size, off:off + size]
