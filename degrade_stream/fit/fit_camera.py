"""``fit_camera``: a camera model (kernel bank, colour maps, noise model) measured from aligned pairs.

Three passes over the pairs, each reading one pair at a time (memory stays one pair, whatever the count):
1. check every pair (readable, one scale, registered within the bounds) before any fitting, so a bad
   pair is refused at once, by name;
2. fit each pair (fit_pair.py): its entry of the bank;
3. score each pair with kernels pooled over the OTHER pairs (their summed normal equations) and the
   other pairs' mean colour map: how well the camera model explains a scene it was not fitted on.
"""
from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from typing import Any

import torch
from tqdm import tqdm

from .colour import apply_colour
from .fit_pair import FitSettings, PairFit, explained, fit_pair, interior, pooled_kernels, psnr
from .kernel import apply_kernels, kernel_summary
from .model import CameraModel
from .noise import colouring_kernel, immerkaer_sigma, psd_colouring
from .pairs import AlignmentBounds, integer_scale, load_camera_pair, pair_list, read_pair
from .registration import remove_integer_shift
from .sharpening import fit_unsharp


@dataclass
class CameraFit:
    """The fitted model and the JSON-safe report."""

    model: CameraModel
    report: dict[str, Any]


def _summary(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.mean(values), 4), "min": round(min(values), 4), "max": round(max(values), 4)}


def _pooled_noise(fits: list[PairFit], detail: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat-pixel-weighted mean channel correlation (as its Cholesky factor) and autocorrelation of the noise
    (``detail``: channel correlation and power spectrum of the detail residual)."""
    weights = torch.tensor([max(f.flat_pixels, 1) for f in fits], dtype=torch.float64)
    weights = weights / weights.sum()
    corr = sum(w * (f.detail_correlation if detail else f.correlation).double() for w, f in zip(weights, fits))
    auto = sum(w * (f.detail_spectrum if detail else f.autocorr).double() for w, f in zip(weights, fits))
    corr = (corr + corr.T) / 2 + 1e-6 * torch.eye(3, dtype=torch.float64)
    return torch.linalg.cholesky(corr).float(), auto.float()


def _held_out(found: list, checks: list, fits: list[PairFit], s: FitSettings,
              progress: bool) -> list[dict[str, float]]:
    """Per pair: PSNR and explained variance of the pair under the other pairs' pooled kernels and mean colour."""
    out = []
    for i, (name, gt, lq) in enumerate(tqdm(found, desc="fit-camera: held-out", disable=not progress, leave=False)):
        on_grid, low, _ = read_pair(name, gt, lq)
        hq, low = remove_integer_shift(on_grid, low, checks[i][2]["dy"], checks[i][2]["dx"])
        colour = torch.stack([f.colour for j, f in enumerate(fits) if j != i]).mean(0)
        x = apply_colour(hq[None], colour[None])
        pred = interior(apply_kernels(x, pooled_kernels(fits, s, leave_out=i)[None])[0], s.kernel_size // 2)
        target = interior(low, s.kernel_size // 2)
        out.append({"psnr_held_out": round(psnr(pred, target), 3),
                    "explained_variance_held_out": round(explained(pred, target), 5),
                    "immerkaer_sigma_lq": [round(v, 5) for v in immerkaer_sigma(low)]})
    return out


def fit_camera(folder: str | os.PathLike, settings: FitSettings = FitSettings(),
               bounds: AlignmentBounds = AlignmentBounds(), min_pairs: int = 2, progress: bool = True) -> CameraFit:
    """Fit a camera model to the pairs DIR/gt + DIR/lq; every pair is checked before any fitting."""
    found = pair_list(folder, min_pairs)
    checks = []
    for name, gt, lq in tqdm(found, desc="fit-camera: check", disable=not progress, leave=False):
        pair = load_camera_pair(name, gt, lq, bounds)
        checks.append((name, pair.scale, pair.registration.as_dict()))
    scale = integer_scale([(name, ratio) for name, ratio, _ in checks])
    fits = []
    for (name, gt, lq), (_, _, reg) in tqdm(list(zip(found, checks)), desc="fit-camera: fit",
                                            disable=not progress, leave=False):
        on_grid, low, _ = read_pair(name, gt, lq)
        fits.append(fit_pair(name, on_grid, low, reg["dy"], reg["dx"], settings))
    held_out = _held_out(found, checks, fits, settings, progress) if len(fits) > 1 else [{} for _ in fits]
    chroma, autocorr = _pooled_noise(fits)
    detail_chroma, detail_spectrum = _pooled_noise(fits, detail=True)
    model = CameraModel(kernels=torch.stack([f.kernels for f in fits]), colour=torch.stack([f.colour for f in fits]),
                        noise_a=torch.stack([f.noise_a for f in fits]), noise_b=torch.stack([f.noise_b for f in fits]),
                        chroma=chroma, spatial=colouring_kernel(autocorr), scale=scale,
                        names=tuple(name for name, _, _ in found), detail=torch.stack([f.detail for f in fits]),
                        detail_chroma=detail_chroma, detail_spatial=psd_colouring(detail_spectrum))
    return CameraFit(model, _report(folder, checks, fits, held_out, settings, bounds, scale, autocorr, chroma,
                                    detail_spectrum, detail_chroma))


def _report(folder: Any, checks: list, fits: list[PairFit], held_out: list, s: FitSettings,
            bounds: AlignmentBounds, scale: int, autocorr: torch.Tensor, chroma: torch.Tensor,
            detail_spectrum: torch.Tensor, detail_chroma: torch.Tensor) -> dict[str, Any]:
    pairs = []
    for (name, ratio, reg), fit, extra in zip(checks, fits, held_out):
        kernel = fit.kernels.mean(0)
        pairs.append({**fit.report, **extra, "scale": round(ratio, 4), "registration": reg,
                      "kernel": kernel_summary(kernel), "sharpening": fit_unsharp(kernel)})
    pooled = pooled_kernels(fits, s)
    keys = ["psnr_identity", "psnr_colour", "psnr_fit", "explained_variance", "psnr_held_out",
            "explained_variance_held_out"]
    return {"pairs_folder": str(folder), "pairs": len(fits), "scale": scale,
            "settings": vars(s), "alignment_bounds": vars(bounds),
            "summary": {k: _summary([p[k] for p in pairs]) for k in keys if all(k in p for p in pairs)},
            "registration_error_px": _summary([p["registration"]["local_error"] for p in pairs]),
            "pooled_kernel": {**kernel_summary(pooled.mean(0)), "sharpening": fit_unsharp(pooled.mean(0))},
            "noise_channel_correlation": (chroma.double() @ chroma.double().T).round(decimals=4).tolist(),
            "noise_autocorrelation_centre_row": autocorr[autocorr.shape[0] // 2].round(decimals=4).tolist(),
            "detail_channel_correlation": (detail_chroma.double() @ detail_chroma.double().T).round(
                decimals=4).tolist(),
            "detail_spectrum_first_row": detail_spectrum[0].round(decimals=4).tolist(),
            "per_pair": pairs}
