"""Content-matched realism on real pairs: chain(H) against the real L of the same scene, patch for patch.

With real pairs the content can be held fixed: every synthetic LQ is compared with the real LQ of its
own scene, at the same patch positions, so only the degradation can differ. Measures, each with a
bootstrap interval over scenes (a resampled scene brings its real and its synthetic patches):
per-pair PSNR(chain(H), L); the paired Fréchet distance and KID of degradation statistics in the
real L's units (units.py); and the classifier two-sample test split by scene (two_sample.py). Seeds of
the synthesis are a second source of spread: ``over_seeds`` summarises rows of several seeds.
"""
from __future__ import annotations

from typing import Any, Sequence

import kornia
import torch
from torch import Tensor

from .bootstrap import group_counts, percentile_interval
from .image_patches import PatchSet, cut, grid_positions, image_seed
from .realism import Settings, compute_stats, measure_row
from .units import RealUnits


def paired_patch_sets(names: Sequence[str], real: Sequence[Tensor], synth: Sequence[Tensor], size: int = 32,
                      per_image: int = 64, seed: int = 0) -> tuple[PatchSet, PatchSet]:
    """Real and synthetic patches at the same positions of each scene; group id = scene index."""
    real_chunks, synth_chunks, groups, kept = [], [], [], []
    for index, (name, a, b) in enumerate(zip(names, real, synth)):
        if a.shape != b.shape:
            raise ValueError(f"pair {name}: the real LQ is {a.shape[2]}x{a.shape[1]} but the synthesized LQ is "
                             f"{b.shape[2]}x{b.shape[1]}; a content-matched comparison needs the same size")
        positions = grid_positions(a.shape[1], a.shape[2], size, per_image,
                                   torch.Generator().manual_seed(image_seed(seed, index)))
        if not positions:
            raise ValueError(f"pair {name}: the LQ ({a.shape[2]}x{a.shape[1]}) is smaller than a {size}-px patch")
        real_chunks.append(cut(a, positions, size))
        synth_chunks.append(cut(b, positions, size))
        groups.append(torch.full((len(positions),), len(kept), dtype=torch.long))
        kept.append(name)
    if not kept:
        raise ValueError("no pairs to compare")
    group = torch.cat(groups)
    sizes = [(int(a.shape[1]), int(a.shape[2])) for a in real]
    return PatchSet(torch.cat(real_chunks), group, list(kept), sizes), \
        PatchSet(torch.cat(synth_chunks), group.clone(), list(kept), sizes)


def pair_psnr(real: Sequence[Tensor], synth: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """(PSNR dB, SSIM) of each synthesized LQ against the real LQ of its scene (whole images, RGB in [0, 1])."""
    psnr, ssim = [], []
    for a, b in zip(real, synth):
        x, y = b[None].to(torch.float32), a[None].to(torch.float32)
        psnr.append(float(kornia.metrics.psnr(x, y, max_val=1.0).clamp(max=100.0)))
        ssim.append(float(kornia.metrics.ssim(x, y, 11, max_val=1.0).mean()))
    return torch.tensor(psnr, dtype=torch.float64), torch.tensor(ssim, dtype=torch.float64)


def paired_measures(names: Sequence[str], real: Sequence[Tensor], synth: Sequence[Tensor], patch_size: int = 32,
                    per_image: int = 64, settings: Settings | None = None) -> dict[str, Any]:
    """All content-matched measures of synthesized LQ ``synth`` against the real LQ ``real`` of the same scenes."""
    s = settings or Settings()
    real_set, synth_set = paired_patch_sets(names, real, synth, patch_size, per_image, s.seed)
    compute_stats(real_set, s.device)
    compute_stats(synth_set, s.device)
    units = RealUnits.fit(real_set.stats)
    row = measure_row(real_set, synth_set, units, s, paired=True)
    psnr, ssim = pair_psnr(real, synth)
    counts = group_counts(len(psnr), s.resamples, torch.Generator().manual_seed(s.seed + 2))
    row.update({"scenes": len(names), "pair_psnr": float(psnr.mean()),
                "pair_psnr_ci": percentile_interval(counts @ psnr / counts.sum(1)),
                "pair_ssim": float(ssim.mean()), "pair_ssim_ci": percentile_interval(counts @ ssim / counts.sum(1)),
                "units": "statistics standardised by the mean and std of the real LQ patches"})
    return row


def over_seeds(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean, min and max over synthesis seeds of every number of the rows (classifier scores included)."""
    def numbers(row: dict[str, Any]) -> dict[str, float]:
        flat = {k: float(v) for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        flat.update({f"classifier_{k}": float(v) for k, v in row.get("classifier", {}).items()
                     if k in ("accuracy", "auc")})
        return flat

    table = [numbers(r) for r in rows]
    return {k: {"mean": sum(t[k] for t in table) / len(table), "min": min(t[k] for t in table),
                "max": max(t[k] for t in table)} for k in table[0]}
