"""Realism of synthesized LQ against real LQ, with no downloaded weights.

(a) The Fréchet distance between Gaussian fits of per-patch degradation statistics
(degradation_stats.py), each feature standardised by the pooled std of both sets so that no single
statistic dominates; reported with all features and without the colour/brightness/contrast group.
(b) The classifier two-sample test (two_sample.py) on the same patches.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .degradation_stats import degradation_stats, feature_columns
from .frechet import frechet_between
from .two_sample import classifier_two_sample_test


def standardise_pooled(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Centre and scale both feature sets by the mean and std of their union (constant columns kept at 0)."""
    pooled = torch.cat([a, b]).to(torch.float64)
    mean = pooled.mean(0)
    std = pooled.std(0).clamp(min=1e-8)
    return (a.to(torch.float64) - mean) / std, (b.to(torch.float64) - mean) / std


def stats_frechet(real_stats: Tensor, synth_stats: Tensor) -> dict[str, float]:
    """Fréchet distances of standardised statistics: all features, and degradation features only."""
    a, b = standardise_pooled(real_stats, synth_stats)
    keep = feature_columns(include_colour=False)
    return {"frechet_all": frechet_between(a, b), "frechet_degradation": frechet_between(a[:, keep], b[:, keep])}


def realism_report(real_patches: Tensor, synth_patches: Tensor, seed: int = 0, steps: int = 300,
                   classifier: bool = True, device: torch.device | str = "cpu") -> dict[str, object]:
    """Both realism measures for two (N, 3, P, P) patch sets in [0, 1]."""
    report: dict[str, object] = {
        "real_patches": int(real_patches.shape[0]), "synth_patches": int(synth_patches.shape[0]),
        **stats_frechet(degradation_stats(real_patches.to(device)).cpu(),
                        degradation_stats(synth_patches.to(device)).cpu()),
    }
    if classifier:
        report["classifier"] = classifier_two_sample_test(real_patches, synth_patches, seed=seed, steps=steps,
                                                          device=device)
    return report
