"""The camera's sharpening, read from a fitted kernel: an unsharp mask on top of a blur.

A kernel that an ISP's unsharp masking shaped has the form k = (1 + w) G(s_b) - w G(s_r) (a blur G(s_b),
sharpened by amount w with a wider blur of radius s_r: Real-ESRGAN's USM, sharpen = x + w (x - G(s_r) x),
applied after the optics' blur; Gaussians on the kernel grid, each normalised to sum 1, so k sums to 1).
``fit_unsharp`` finds (s_b, s_r, w) by a grid search over the two radii with w in closed form; the
negative lobes of the fitted kernel, which this model explains, are the halos of the sharpening.
"""
from __future__ import annotations

import torch
from torch import Tensor


def _gaussian(size: int, sigma: float) -> Tensor:
    coords = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(coords[:, None] ** 2 + coords[None, :] ** 2) / (2 * sigma * sigma))
    return g / g.sum()


def fit_unsharp(kernel: Tensor) -> dict[str, float]:
    """Best (blur_sigma, radius, amount) of k ~ (1 + amount) G(blur_sigma) - amount G(radius) for a
    (k, k) kernel, with the fit's relative residual ||k - model|| / ||k||; amount 0 when no sharpening
    improves the fit of a plain blur."""
    k = kernel.double()
    size = k.shape[-1]
    norm = float(k.norm())
    best = {"blur_sigma": 0.0, "radius": 0.0, "amount": 0.0, "relative_residual": float("inf")}
    blurs = [0.3 + 0.1 * i for i in range(38)]
    for sb in blurs:
        gb = _gaussian(size, sb)
        plain = float((k - gb).norm()) / norm
        if plain < best["relative_residual"]:
            best = {"blur_sigma": sb, "radius": 0.0, "amount": 0.0, "relative_residual": plain}
        for step in range(1, 40):
            sr = sb + 0.2 * step
            if sr > size / 2:
                break
            diff = gb - _gaussian(size, sr)
            amount = float(((k - gb) * diff).sum() / diff.square().sum().clamp_min(1e-20))
            if amount <= 0:
                continue
            rel = float((k - gb - amount * diff).norm()) / norm
            if rel < best["relative_residual"]:
                best = {"blur_sigma": sb, "radius": sr, "amount": amount, "relative_residual": rel}
    return {key: round(value, 4) for key, value in best.items()}
