"""Structure between an HQ image and its LQ: PSNR and SSIM at the LQ size (kornia).

The paper (Yang et al. 2023, sec. 4.3 and Fig. 4) calls a pair whose PSNR(HQ, LQ) is below 24 dB
structurally inconsistent; ``summarize_psnr`` reports the fraction below that line.
"""
from __future__ import annotations

from typing import Sequence

import kornia
import torch
from torch import Tensor

INCONSISTENT_BELOW_DB = 24.0
SSIM_WINDOW = 11  # Wang et al. 2004, sec. III-C


def hq_at_lq_size(hq: Tensor, lq_height: int, lq_width: int) -> Tensor:
    """Resize a (3, H, W) HQ image to the LQ size (bicubic, antialiased).

    When the HQ holds an integer multiple s of the LQ size plus a remainder (an HQ that was cropped
    to a multiple of the scale before degradation), the top-left (s*h, s*w) region is used, so
    the comparison is not skewed by the cropped border.
    """
    _, height, width = hq.shape
    factor = min(height // lq_height, width // lq_width)
    if factor >= 1:
        hq = hq[:, :factor * lq_height, :factor * lq_width]
    if hq.shape[1:] == (lq_height, lq_width):
        return hq
    resized = kornia.geometry.transform.resize(hq[None], (lq_height, lq_width), interpolation="bicubic",
                                               antialias=True, align_corners=False)
    return resized[0].clamp(0, 1)


def structure_scores(hq: Tensor, lq: Tensor) -> tuple[float, float]:
    """(PSNR in dB, SSIM) between an HQ image resized to the LQ size and the (3, h, w) LQ, RGB in [0, 1]."""
    reference = hq_at_lq_size(hq, lq.shape[1], lq.shape[2]).to(lq.device, torch.float32)[None]
    degraded = lq.to(torch.float32)[None]
    psnr = float(kornia.metrics.psnr(degraded, reference, max_val=1.0))
    ssim = float(kornia.metrics.ssim(degraded, reference, SSIM_WINDOW, max_val=1.0).mean())
    return psnr, ssim


def summarize_psnr(psnr: Sequence[float], ssim: Sequence[float],
                   threshold: float = INCONSISTENT_BELOW_DB) -> dict[str, float | int]:
    """Mean and median PSNR/SSIM and the fraction of pairs below ``threshold`` dB."""
    if not psnr:
        raise ValueError("no (HQ, LQ) pairs to score")
    psnr_db = torch.tensor(psnr, dtype=torch.float64)
    ssim_values = torch.tensor(ssim, dtype=torch.float64)
    finite = psnr_db.clamp(max=100.0)  # identical images give inf dB; cap so means stay finite
    return {
        "pairs": len(psnr),
        "psnr_mean": float(finite.mean()),
        "psnr_median": float(finite.median()),
        "ssim_mean": float(ssim_values.mean()),
        "ssim_median": float(ssim_values.median()),
        f"fraction_below_{threshold:g}db": float((psnr_db < threshold).double().mean()),
    }
