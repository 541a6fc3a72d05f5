"""BSRGAN's blur kernels, shifted downsampling kernel and channel-correlated noise, batched per sample
(cszn/KAIR ``utils/utils_blindsr.py``, commit 5480229: ``add_blur``, ``anisotropic_Gaussian``, ``fspecial``,
``shift_pixel``, ``add_Gaussian_noise``), written from those functions' algorithms (no code copied).
"""
from __future__ import annotations

import torch
from torch import Tensor

from .kernel_grid import kernel_grid, mask_and_normalise

#: ``fspecial('gaussian')`` zeroes values below eps * max (MATLAB's rule), eps of float64
_FSPECIAL_EPS = torch.finfo(torch.float64).eps


def gaussian_kernels(inv_cov: Tensor, size: Tensor, pad: int) -> Tensor:
    """(B, pad, pad) normalised centred Gaussians exp(-d^T inv_cov d / 2) (d = (column, row) offset), zero
    outside each sample's ``size``; as ``gm_blur_kernel`` (the multivariate normal pdf, normalised)."""
    x, y = kernel_grid(pad, inv_cov.device)
    x, y = x[None], y[None]
    a, b, c = inv_cov[:, 0, 0, None, None], inv_cov[:, 0, 1, None, None], inv_cov[:, 1, 1, None, None]
    kern = torch.exp(-0.5 * (a * x * x + 2 * b * x * y + c * y * y))
    return mask_and_normalise(kern, size)


def blur_inv_cov(aniso: Tensor, theta: Tensor, l1: Tensor, l2: Tensor, sigma: Tensor) -> Tensor:
    """(B, 2, 2) inverse covariances: ``anisotropic_Gaussian`` (covariance V diag(l1, l2) V with
    V = [[cos, sin], [sin, -cos]] of theta) where ``aniso``, else ``fspecial('gaussian')`` with std ``sigma``."""
    c, s = torch.cos(theta), torch.sin(theta)
    il1, il2 = 1.0 / l1.clamp_min(1e-6), 1.0 / l2.clamp_min(1e-6)
    # V is its own inverse: Sigma^-1 = V diag(1/l1, 1/l2) V
    a = c * c * il1 + s * s * il2
    b = c * s * (il1 - il2)
    d = s * s * il1 + c * c * il2
    iso = 1.0 / sigma.clamp_min(1e-3) ** 2
    a = torch.where(aniso, a, iso)
    b = torch.where(aniso, b, torch.zeros_like(b))
    d = torch.where(aniso, d, iso)
    return torch.stack([torch.stack([a, b], -1), torch.stack([b, d], -1)], -2)


def _shift_matrices(shift: Tensor, size: int) -> Tensor:
    """(B, size, size) P with (P k)[i] = k linearly interpolated at clip(i + shift, 0, size - 1)."""
    pos = (torch.arange(size, dtype=torch.float64, device=shift.device)[None] + shift[:, None]).clamp(0, size - 1)
    low = pos.floor()
    frac = pos - low
    low = low.long()
    high = (low + 1).clamp_max(size - 1)
    p = torch.zeros(shift.shape[0], size, size, dtype=torch.float64, device=shift.device)
    p.scatter_add_(2, low[..., None], (1 - frac)[..., None])
    p.scatter_add_(2, high[..., None], frac[..., None])
    return p


def shifted_downsample_kernels(sigma: Tensor, sf: Tensor, size: int = 25) -> Tensor:
    """(B, size, size) kernels for BSRGAN's second downsampler, ready for a correlation (``filter_per_sample``):
    ``fspecial('gaussian', size, sigma)`` resampled by ``shift_pixel`` at offsets + (sf - 1)/2 (bilinear, clipped
    to the grid), normalised, and flipped (the reference convolves). Followed by x[::sf, ::sf], each output pixel
    is then the blurred centre of its sf x sf block."""
    x, y = kernel_grid(size, sigma.device)
    var = sigma.to(torch.float64).clamp_min(1e-3)[:, None, None] ** 2
    g = torch.exp(-(x.double() ** 2 + y.double() ** 2)[None] / (2 * var))
    g = torch.where(g < _FSPECIAL_EPS * g.amax((1, 2), keepdim=True), torch.zeros_like(g), g)
    g = g / g.sum((1, 2), keepdim=True)
    p = _shift_matrices((sf.to(torch.float64) - 1) / 2, size)
    shifted = p @ g @ p.transpose(1, 2)
    shifted = shifted / shifted.sum((1, 2), keepdim=True)
    return shifted.flip(-1, -2).to(torch.float32)


def correlated_noise_matrices(level: Tensor, kind: Tensor, eigen: Tensor, basis_draw: Tensor) -> Tensor:
    """(B, 3, 3) matrices A: noise = A n with n a standard normal 3-vector per pixel. Kind 0: colour, std
    level/255 per channel; 1: gray, one field for all channels; 2: ``add_Gaussian_noise``'s correlated noise, whose
    covariance is abs(L^2 U^T D U) elementwise (L = 25/255, D = diag(``eigen``), U = ``orth`` of the uniform 3x3
    ``basis_draw``: its left singular vectors). That matrix can be indefinite; numpy's ``multivariate_normal``
    then samples through its SVD, i.e. with the covariance Q |Lambda| Q^T, and so does A = Q |Lambda|^(1/2) Q^T."""
    u = torch.linalg.svd(basis_draw.to(torch.float64)).U
    conv = u.transpose(-1, -2) @ torch.diag_embed(eigen.to(torch.float64)) @ u
    cov = ((25.0 / 255.0) ** 2 * conv).abs()
    values, vectors = torch.linalg.eigh(cov)
    corr = (vectors @ torch.diag_embed(values.abs().sqrt()) @ vectors.transpose(-1, -2)).to(torch.float32)
    sigma = (level.to(torch.float32) / 255.0)[:, None, None]
    eye = torch.eye(3, device=corr.device).expand_as(corr)
    gray = torch.zeros_like(corr)
    gray[:, :, 0] = 1.0  # every channel takes the first field
    kind = kind.to(corr.device)[:, None, None]
    return torch.where(kind == 0, sigma * eye, torch.where(kind == 1, sigma * gray, corr))
