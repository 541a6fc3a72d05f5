"""Per-patch degradation statistics: the features of the realism Fréchet distance.

Each (3, P, P) RGB patch in [0, 1] becomes a vector of statistics that describe how it was degraded
rather than what it shows: noise level, chroma noise, gradient energy, sharpness, the radially
averaged power spectrum in log bands, and 8x8 JPEG blockiness. Measured on 32x32 patches of the real
LQ photos ``lq_natural``, these separate real LQ from bicubic x4 of ``hq_natural`` (Fréchet distance
4.5-8.2) far more than two halves of the real LQ differ (1.0-1.4; docs/realism.md, "Measuring structure and
realism"). Colour, brightness and contrast mostly follow the content, so they are listed apart
(``COLOUR_FEATURES``) and the distance is reported with and without them.
"""
from __future__ import annotations

import math

import kornia
import torch
from torch import Tensor

SPECTRUM_BANDS = 6
DEGRADATION_FEATURES = (
    "noise_sigma", "chroma_noise_sigma", "gradient_energy", "sharpness",
    *(f"spectrum_band{i}" for i in range(SPECTRUM_BANDS)), "jpeg_blockiness",
)
COLOUR_FEATURES = ("colourfulness", "saturation", "luma_mean", "luma_contrast")
FEATURE_NAMES = DEGRADATION_FEATURES + COLOUR_FEATURES
_EPS = 1e-6
_NOISE_EPS = 1e-3  # ~ the sigma of 8-bit quantisation (1/255/sqrt(12)): flat 8-bit patches do not dominate


def _mad_sigma(channel: Tensor) -> Tensor:
    """Robust noise sigma per patch from the diagonal Haar detail band: median(|HH|) / 0.6745.

    Donoho & Johnstone 1994 ("Ideal spatial adaptation by wavelet shrinkage"), sec. 2.
    """
    a, b = channel[:, 0::2, 0::2], channel[:, 0::2, 1::2]
    c, d = channel[:, 1::2, 0::2], channel[:, 1::2, 1::2]
    hh = (a - b - c + d) / 2
    return hh.flatten(1).abs().median(dim=1).values / 0.6745


def _log(x: Tensor, eps: float = _EPS) -> Tensor:
    return torch.log(x + eps)


def _spectrum_bands(luma: Tensor) -> Tensor:
    """(N, SPECTRUM_BANDS): log power per log-spaced radial band, relative to total AC power.

    The Hann window suppresses the patch border's leakage; normalising by the total power keeps the
    spectral fall-off (blur, noise) and removes the content's contrast.
    """
    n, size, _ = luma.shape
    window = torch.hann_window(size, periodic=False, dtype=luma.dtype, device=luma.device)
    x = (luma - luma.mean(dim=(1, 2), keepdim=True)) * (window[:, None] * window[None, :])
    power = torch.fft.rfft2(x).abs().square()  # (N, size, size // 2 + 1)
    fy = torch.fft.fftfreq(size, device=luma.device, dtype=luma.dtype)
    fx = torch.fft.rfftfreq(size, device=luma.device, dtype=luma.dtype)
    radius = torch.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    edges = torch.logspace(math.log10(1.0 / size), math.log10(0.5 * math.sqrt(2)) + 1e-6, SPECTRUM_BANDS + 1,
                           device=luma.device, dtype=luma.dtype)
    band = torch.bucketize(radius, edges, right=True) - 1  # -1 = DC (below the first edge)
    total = power.flatten(1).sum(1) + _EPS
    columns = []
    for k in range(SPECTRUM_BANDS):
        mask = (band == k).to(luma.dtype)
        mean_power = (power * mask).flatten(1).sum(1) / mask.sum().clamp(min=1)
        columns.append(_log(mean_power / total))
    return torch.stack(columns, 1)


def _blockiness(luma: Tensor) -> Tensor:
    """log ratio of the mean absolute step across 8-px block boundaries to the step inside blocks.

    A generalisation of Wang, Bovik & Evans 2000 ("Blind measurement of blocking artifacts in
    images"): ~0 for content without block structure, > 0 for JPEG-coded images. Needs patches
    whose origin lies on the 8-px grid (see patches.py).
    """
    dx = (luma[:, :, 1:] - luma[:, :, :-1]).abs()  # step between column j and j+1
    dy = (luma[:, 1:, :] - luma[:, :-1, :]).abs()
    boundary_x = (torch.arange(dx.shape[2], device=luma.device) % 8) == 7
    boundary_y = (torch.arange(dy.shape[1], device=luma.device) % 8) == 7
    across = torch.cat([dx[:, :, boundary_x].flatten(1), dy[:, boundary_y, :].flatten(1)], 1).mean(1)
    inside = torch.cat([dx[:, :, ~boundary_x].flatten(1), dy[:, ~boundary_y, :].flatten(1)], 1).mean(1)
    return _log(across) - _log(inside)


def _colourfulness(rgb: Tensor) -> Tensor:
    """Hasler & Süsstrunk 2003 ("Measuring colourfulness in natural images"), eq. 3, in [0, 1] units."""
    r, g, b = rgb[:, 0].flatten(1), rgb[:, 1].flatten(1), rgb[:, 2].flatten(1)
    rg = r - g
    yb = 0.5 * (r + g) - b
    spread = torch.sqrt(rg.var(1, unbiased=False) + yb.var(1, unbiased=False))
    centre = torch.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2)
    return spread + 0.3 * centre


def degradation_stats(patches: Tensor) -> Tensor:
    """(N, len(FEATURE_NAMES)) float32 statistics of (N, 3, P, P) patches in [0, 1] (P even, >= 16)."""
    if patches.dim() != 4 or patches.shape[1] != 3 or patches.shape[2] != patches.shape[3]:
        raise ValueError(f"expected (N, 3, P, P) patches, got shape {tuple(patches.shape)}")
    if patches.shape[2] < 16 or patches.shape[2] % 2:
        raise ValueError(f"patch size must be even and >= 16, got {patches.shape[2]}")
    x = patches.to(torch.float32)
    ycbcr = kornia.color.rgb_to_ycbcr(x)
    luma = ycbcr[:, 0]
    gradient = kornia.filters.spatial_gradient(luma[:, None], normalized=True)[:, 0]  # (N, 2, P, P)
    gradient_energy = gradient.square().sum(1)[:, 1:-1, 1:-1].flatten(1).mean(1)
    laplacian = kornia.filters.laplacian(luma[:, None], 3, normalized=True)[:, 0, 1:-1, 1:-1]
    sharpness = _log(laplacian.flatten(1).var(1)) - _log(gradient_energy)
    features = [
        _log(_mad_sigma(luma), _NOISE_EPS),
        _log((_mad_sigma(ycbcr[:, 1]) + _mad_sigma(ycbcr[:, 2])) / 2, _NOISE_EPS),
        _log(gradient_energy),
        sharpness,
        *_spectrum_bands(luma).unbind(1),
        _blockiness(luma),
        _colourfulness(x),
        kornia.color.rgb_to_hsv(x)[:, 1].flatten(1).mean(1),
        luma.flatten(1).mean(1),
        luma.flatten(1).std(1),
    ]
    return torch.stack(features, 1)


def feature_columns(include_colour: bool) -> list[int]:
    """Indices of the features used with or without the colour/brightness/contrast group."""
    names = FEATURE_NAMES if include_colour else DEGRADATION_FEATURES
    return [FEATURE_NAMES.index(n) for n in names]
