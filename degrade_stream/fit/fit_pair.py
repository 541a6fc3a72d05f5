"""Everything measured on one aligned pair: colour map, per-channel kernels, the noise left over, and how
well the fit explains the pair (see colour.py, kernel.py, noise.py for the methods and references)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .colour import apply_colour, fit_colour
from .kernel import apply_kernels, normal_equations, solve_kernel
from .noise import (binned_variance, channel_correlation, fit_affine_variance, fit_detail, flat_mask, high_pass,
                    spatial_correlation, texture_energy, texture_mask, welch_spectrum)
from .registration import remove_integer_shift


@dataclass(frozen=True)
class FitSettings:
    """Kernel size and regularisation, normal-equation stride, noise window and flat-region share."""

    kernel_size: int = 15
    ridge: float = 1e-3
    smooth: float = 1e-2
    stride: int = 0  # 0: auto_stride
    noise_size: int = 7
    flat_quantile: float = 0.3


@dataclass
class PairFit:
    """One pair's fitted values, its normal equations (for pooled kernels) and its report."""

    colour: Tensor
    kernels: Tensor
    noise_a: Tensor
    noise_b: Tensor
    correlation: Tensor
    autocorr: Tensor
    flat_pixels: int
    detail: Tensor
    detail_correlation: Tensor
    detail_spectrum: Tensor
    equations: list[tuple[Tensor, Tensor, int]] = field(repr=False)
    report: dict[str, Any]


def psnr(a: Tensor, b: Tensor) -> float:
    """PSNR in dB of two [0, 1] images."""
    mse = float((a.double() - b.double()).square().mean())
    return 10 * math.log10(1 / mse) if mse > 0 else float("inf")


def explained(prediction: Tensor, target: Tensor) -> float:
    """1 - mse / var(target): the share of L's variance the prediction explains."""
    return 1 - float((prediction.double() - target.double()).square().mean()) / float(target.double().var())


def interior(x: Tensor, margin: int) -> Tensor:
    return x[..., margin:x.shape[-2] - margin, margin:x.shape[-1] - margin]


def aligned(hq: Tensor, lq: Tensor, dy: float, dx: float, colour: Tensor | None) -> tuple[Tensor, Tensor]:
    """(X, L): the integer shift removed and, given ``colour``, H colour-mapped."""
    hq, lq = remove_integer_shift(hq, lq, dy, dx)
    return (hq if colour is None else apply_colour(hq[None], colour[None])[0]), lq


def noise_terms(clean: Tensor, lq: Tensor, s: FitSettings) -> dict[str, Any]:
    """Noise level (a, b per channel), channel correlation and autocorrelation of the residual L - clean."""
    residual = high_pass(lq - clean)
    mask = flat_mask(clean, s.flat_quantile)
    table = binned_variance(residual, clean, mask)
    ab = [fit_affine_variance(rows) for rows in table]
    a = torch.tensor([v[0] for v in ab], dtype=torch.float32)
    b = torch.tensor([v[1] for v in ab], dtype=torch.float32)
    std = (a[:, None, None] * clean.clamp(0, 1) + b[:, None, None]).clamp_min(1e-8).sqrt()
    z = residual / std
    detail = fit_detail(residual, clean, a, b)
    energy = texture_energy(clean[None])[0, 0]
    z_detail = residual / (std.square() + detail[:, None, None] * energy).clamp_min(1e-12).sqrt()
    textured = texture_mask(clean, s.flat_quantile)
    return {"a": a, "b": b, "correlation": channel_correlation(z, mask),
            "autocorr": spatial_correlation(z, mask, s.noise_size), "flat": int(mask.sum()),
            "detail": detail, "detail_correlation": channel_correlation(z_detail, textured),
            "detail_spectrum": welch_spectrum(z_detail, textured),
            "bins": [[[round(m, 4), round(v, 8), n] for m, v, n in rows] for rows in table]}


def fit_pair(name: str, hq: Tensor, lq: Tensor, dy: float, dx: float, s: FitSettings) -> PairFit:
    """Fit colour, kernels and noise to one pair on one grid (H already resized to L's grid)."""
    x0, y = aligned(hq, lq, dy, dx, None)
    colour = fit_colour(x0, y)
    x = apply_colour(x0[None], colour[None])[0]
    equations = [normal_equations(x[c], y[c], s.kernel_size, s.stride) for c in range(3)]
    kernels = torch.stack([solve_kernel(*eq, s.kernel_size, s.ridge, s.smooth) for eq in equations])
    margin = s.kernel_size // 2
    clean = interior(apply_kernels(x[None], kernels[None])[0], margin)
    target = interior(y, margin)
    noise = noise_terms(clean, target, s)
    report = {"name": name, "psnr_identity": round(psnr(interior(x0, margin), target), 3),
              "psnr_colour": round(psnr(interior(x, margin), target), 3),
              "psnr_fit": round(psnr(clean, target), 3), "explained_variance": round(explained(clean, target), 5),
              "noise_a": [round(v, 8) for v in noise["a"].tolist()],
              "noise_b": [round(v, 8) for v in noise["b"].tolist()],
              "noise_std_at_half": [round(math.sqrt(a * 0.5 + b), 5) for a, b in zip(noise["a"].tolist(),
                                                                                     noise["b"].tolist())],
              "flat_pixels": noise["flat"], "noise_bins": noise["bins"],
              "detail": [round(v, 6) for v in noise["detail"].tolist()]}
    return PairFit(colour, kernels, noise["a"], noise["b"], noise["correlation"], noise["autocorr"], noise["flat"],
                   noise["detail"], noise["detail_correlation"], noise["detail_spectrum"], equations, report)


def pooled_kernels(fits: list[PairFit], s: FitSettings, leave_out: int | None = None) -> Tensor:
    """(3, k, k) kernels solving the summed normal equations of ``fits`` (without entry ``leave_out``)."""
    chosen = [f for i, f in enumerate(fits) if i != leave_out]
    out = []
    for c in range(3):
        gram = sum(f.equations[c][0] for f in chosen)
        rhs = sum(f.equations[c][1] for f in chosen)
        rows = sum(f.equations[c][2] for f in chosen)
        out.append(solve_kernel(gram, rhs, rows, s.kernel_size, s.ridge, s.smooth))
    return torch.stack(out)
