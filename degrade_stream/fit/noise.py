"""The noise left in L once the fitted blur of H is subtracted: signal-dependent level, channel (chroma)
correlation and spatial correlation, measured in flat regions.

- Level: the Poisson-Gaussian model of Foi et al. 2008 ("Practical Poissonian-Gaussian noise modeling and
  fitting for single-image raw-data", IEEE TIP 17(10)): var(z | mu) = a mu + b per channel. Foi fits it on
  wavelet details of smooth level sets of one image; with a pair the clean signal is known (the fitted
  H * k), so the residual L - H * k is binned by that intensity, each bin's variance taken robustly
  (1.4826 MAD, squared: the residual also holds misfit at edges), and a, b >= 0 fitted by weighted least
  squares over the bins (weights: pixel counts).
- Flat regions: as Real-SR (Ji et al. 2020, Sec. 3.2) collects noise only where the content is flat, the
  residual is used where the local gradient energy of the clean signal is in its lowest ``flat_quantile``,
  away from clipping. The residual's 15 x 15 local mean is removed first (colour/vignetting misfit), which
  removes a negligible share of noise with a small correlation length.
- Chroma: the 3 x 3 correlation of the normalised residual z = r / sqrt(a mu + b) between channels
  (demosaicing and colour processing correlate the channels' noise).
- Spatial: the masked autocorrelation of z (a ``size`` x ``size`` window, mean over channels); the stage
  colours white noise with g = F^-1 sqrt(F R), the zero-phase filter whose autocorrelation is R.
- A check on L alone: Immerkær 1996 ("Fast noise variance estimation", CVIU 64(2)) per channel.

Detail residual (``fit_detail``): at edges and texture the residual is far larger than the flat-region noise.
It holds what a linear, globally registered blur cannot say: local misregistration (lens distortion, parallax),
aliasing, demosaicing and the ISP's non-linear sharpening. It is incoherent with H (on City100's iPhone test
pairs the coherence of H and L falls to 0.38 at 0.15-0.2 cycles/px and 0.04 at 0.2-0.3, where L still holds 13 % and
5 % of H's energy, the fitted chain's LQ 6 % and 0.5 %). Left out, the synthetic LQ is a near-invertible blur of H
and a restorer trained on it learns to amplify exactly the bands where the real L carries this incoherent detail.
It is modelled as a second coloured field whose variance grows with the local texture energy of the clean signal,
var = c E (E: ``texture_energy``), c per channel matched to the residual's energy over the whole image (the
residual's energy above the Poisson-Gaussian level, divided by the total texture energy), its channel correlation
measured on the most textured pixels and its spectrum by Welch's method (Welch 1967: the mean periodogram of
Hann-windowed ``DETAIL_SIZE`` px patches centred on textured pixels), coloured by the zero-phase filter with that
spectrum (``psd_colouring``). A filter built from a truncated autocorrelation (``colouring_kernel``) keeps a floor
of ~1 % of the peak power at the highest frequencies, where this residual has ~1 % of it: on City100 that made
the detail 2-4x too strong above 0.3 cycles/px. Matching second-order statistics is what a restorer trained
with an L2-like loss responds to first: its optimal linear part is the Wiener filter S_HL / S_LL, set by these.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

FLAT_WINDOW = 7
MEAN_WINDOW = 15


def texture_energy(clean: Tensor) -> Tensor:
    """(B, 1, H, W) local gradient energy of a (B, C, H, W) batch: squared x and y differences, mean over
    channels, ``FLAT_WINDOW`` x ``FLAT_WINDOW`` box mean (reflect padding); every sample on its own."""
    gx = F.pad((clean[..., :, 1:] - clean[..., :, :-1]) ** 2, (0, 1, 0, 0))
    gy = F.pad((clean[..., 1:, :] - clean[..., :-1, :]) ** 2, (0, 0, 0, 1))
    pad = FLAT_WINDOW // 2
    padded = F.pad((gx + gy).mean(1, keepdim=True), (pad, pad, pad, pad), mode="reflect")
    return F.avg_pool2d(F.avg_pool2d(padded, (1, FLAT_WINDOW), 1), (FLAT_WINDOW, 1), 1)


def flat_mask(clean: Tensor, flat_quantile: float = 0.3, margin: float = 0.02) -> Tensor:
    """(H, W) bool: pixels whose local gradient energy (7 x 7 mean over channels) is in the lowest
    ``flat_quantile`` and whose clean values stay ``margin`` away from 0 and 1 in every channel."""
    energy = texture_energy(clean[None])[0, 0]
    threshold = torch.quantile(energy.reshape(-1)[::7].double(), flat_quantile).to(energy.dtype)
    inside = ((clean > margin) & (clean < 1 - margin)).all(0)
    return (energy <= threshold) & inside


def _box_mean(x: Tensor, size: int) -> Tensor:
    """(C, H, W) mean over size x size windows, reflect-padded (two 1-D passes)."""
    pad = size // 2
    padded = F.pad(x[None], (pad, pad, pad, pad), mode="reflect")
    return F.avg_pool2d(F.avg_pool2d(padded, (1, size), 1), (size, 1), 1)[0]


def high_pass(residual: Tensor) -> Tensor:
    """The residual minus its ``MEAN_WINDOW`` box mean (per channel)."""
    return residual - _box_mean(residual, MEAN_WINDOW)


def texture_mask(clean: Tensor, quantile: float = 0.3) -> Tensor:
    """(H, W) bool: the pixels whose texture energy is in the highest ``quantile`` (where detail lives)."""
    energy = texture_energy(clean[None])[0, 0]
    threshold = torch.quantile(energy.reshape(-1)[::7].double(), 1.0 - quantile).to(energy.dtype)
    return energy >= threshold


def fit_detail(residual: Tensor, clean: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """(3,) c >= 0 per channel: the residual's energy above the Poisson-Gaussian level a mu + b, summed over the
    image, divided by the summed texture energy, so that a mu + b + c E has the residual's total energy."""
    energy = texture_energy(clean[None])[0, 0].double()
    level = a.double()[:, None, None] * clean.double().clamp(0, 1) + b.double()[:, None, None]
    excess = (residual.double().square() - level).sum((1, 2))
    return (excess / energy.sum().clamp_min(1e-12)).clamp_min(0.0).to(torch.float32)


#: side of the detail residual's spectrum estimate and colouring filter (odd)
DETAIL_SIZE = 15


def welch_spectrum(z: Tensor, mask: Tensor, size: int = DETAIL_SIZE, patches: int = 4000) -> Tensor:
    """(size, size) power spectrum of ``z`` (mean over channels; DC at [0, 0]), normalised to mean 1: the mean
    periodogram of Hann-windowed size x size patches centred on up to ``patches`` evenly spaced pixels of
    ``mask`` (each patch's mean removed)."""
    r = size // 2
    inner = torch.zeros_like(mask)
    inner[r:mask.shape[0] - r, r:mask.shape[1] - r] = True
    ys, xs = torch.nonzero(mask & inner, as_tuple=True)
    if ys.numel() == 0:
        return torch.ones(size, size)
    step = max(1, ys.numel() // patches)
    ys, xs = ys[::step], xs[::step]
    offsets = torch.arange(-r, r + 1)
    rows = (ys[:, None] + offsets[None])[:, :, None]
    cols = (xs[:, None] + offsets[None])[:, None, :]
    window = torch.outer(torch.hann_window(size + 2, periodic=False, dtype=torch.float64)[1:-1],
                         torch.hann_window(size + 2, periodic=False, dtype=torch.float64)[1:-1])
    total = torch.zeros(size, size, dtype=torch.float64)
    for c in range(z.shape[0]):
        cut = z[c].double()[rows, cols]
        cut = (cut - cut.mean((1, 2), keepdim=True)) * window
        total += torch.fft.fft2(cut).abs().square().mean(0)
    return (total / total.mean()).to(torch.float32)


def psd_colouring(spectrum: Tensor) -> Tensor:
    """(s, s) zero-phase filter with unit energy whose power spectrum on the s x s frequency grid is
    ``spectrum`` (DC at [0, 0], as ``welch_spectrum`` returns it): g = F^-1 sqrt(spectrum), centred."""
    s = spectrum.shape[-1]
    g = torch.roll(torch.fft.ifft2(spectrum.double().clamp_min(0.0).sqrt()).real, (s // 2, s // 2), (0, 1))
    return (g / g.square().sum().sqrt()).to(torch.float32)


def binned_variance(residual: Tensor, clean: Tensor, mask: Tensor, bins: int = 16,
                    min_count: int = 200) -> list[list[tuple[float, float, int]]]:
    """Per channel, (mean intensity, robust variance, count) of each intensity bin with >= ``min_count``
    flat pixels."""
    table = []
    for c in range(3):
        r, mu = residual[c][mask].double(), clean[c][mask].double()
        index = (mu * bins).long().clamp(0, bins - 1)
        rows = []
        for k in range(bins):
            sel = index == k
            count = int(sel.sum())
            if count >= min_count:
                part = r[sel]
                mad = float((part - part.median()).abs().median())
                rows.append((float(mu[sel].mean()), (1.4826 * mad) ** 2, count))
        table.append(rows)
    return table


def fit_affine_variance(rows: list[tuple[float, float, int]]) -> tuple[float, float]:
    """(a, b) >= 0 minimising sum_k n_k (var_k - a mu_k - b)^2 (b alone, or a alone, if the free fit
    makes one negative); (0, 0) without rows."""
    if not rows:
        return 0.0, 0.0
    mu = torch.tensor([r[0] for r in rows], dtype=torch.float64)
    var = torch.tensor([r[1] for r in rows], dtype=torch.float64)
    w = torch.tensor([r[2] for r in rows], dtype=torch.float64)
    if len(rows) >= 2:
        design = torch.stack([mu, torch.ones_like(mu)], 1) * w.sqrt()[:, None]
        a, b = torch.linalg.lstsq(design, (var * w.sqrt())[:, None]).solution[:, 0].tolist()
        if a >= 0 and b >= 0:
            return a, b
    b_only = float((w * var).sum() / w.sum())
    a_only = float((w * mu * var).sum() / (w * mu * mu).sum().clamp_min(1e-12))
    err_b = float((w * (var - b_only) ** 2).sum())
    err_a = float((w * (var - a_only * mu) ** 2).sum())
    return (0.0, max(b_only, 0.0)) if err_b <= err_a else (max(a_only, 0.0), 0.0)


def channel_correlation(z: Tensor, mask: Tensor) -> Tensor:
    """(3, 3) correlation of the three channels of ``z`` over ``mask``."""
    values = z[:, mask].double()
    values = values - values.mean(1, keepdim=True)
    cov = values @ values.T / max(values.shape[1] - 1, 1)
    std = cov.diagonal().clamp_min(1e-20).sqrt()
    return (cov / std[:, None] / std[None, :]).to(torch.float32)


def spatial_correlation(z: Tensor, mask: Tensor, size: int = 7) -> Tensor:
    """(size, size) autocorrelation of ``z`` over ``mask`` (mean over channels), 1 at the centre."""
    h, w = mask.shape
    m = mask.double()
    fh, fw = h + size, w + size
    fm = torch.fft.rfft2(m, s=(fh, fw))
    pairs = torch.fft.irfft2(fm.conj() * fm, s=(fh, fw))
    total = torch.zeros(fh, fw, dtype=torch.float64)
    for c in range(3):
        fz = torch.fft.rfft2(z[c].double() * m, s=(fh, fw))
        total += torch.fft.irfft2(fz.conj() * fz, s=(fh, fw))
    r = size // 2
    auto = torch.roll(total / pairs.clamp_min(1.0), (r, r), (0, 1))[:size, :size]
    return (auto / auto[r, r]).to(torch.float32)


def colouring_kernel(autocorr: Tensor) -> Tensor:
    """(s, s) zero-phase filter g with unit energy whose autocorrelation approximates ``autocorr``:
    g = F^-1 sqrt(max(F R, 0)) on a 4x zero-padded grid, cropped to s x s."""
    s = autocorr.shape[-1]
    n, r = 4 * s, s // 2
    grid = torch.zeros(n, n, dtype=torch.float64)
    grid[:s, :s] = autocorr.double()
    grid = torch.roll(grid, (-r, -r), (0, 1))  # centre at the origin
    spectrum = torch.fft.fft2(grid).real.clamp_min(0.0)
    g = torch.roll(torch.fft.ifft2(spectrum.sqrt()).real, (r, r), (0, 1))[:s, :s]
    return (g / g.square().sum().sqrt()).to(torch.float32)


def immerkaer_sigma(image: Tensor) -> list[float]:
    """Per-channel noise std of a (3, H, W) image by Immerkær's Laplacian-difference estimate."""
    mask = torch.tensor([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]], dtype=torch.float64)
    out = F.conv2d(image.double()[:, None], mask[None, None])
    h, w = image.shape[-2:]
    return [float(v) for v in out.abs().sum((1, 2, 3)) * math.sqrt(math.pi / 2) / (6 * (h - 2) * (w - 2))]
