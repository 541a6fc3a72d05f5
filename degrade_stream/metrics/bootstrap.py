"""Bootstrap over images: resample whole images (groups) with replacement, never single patches.

Patches of one image are correlated, so an interval from resampled patches is far too narrow; the
cluster bootstrap resamples the independent units (Davison & Hinkley 1997, "Bootstrap Methods and their
Application", sec. 3.8). Percentile intervals (Efron & Tibshirani 1993, ch. 13). A resample is a vector
of counts, one per group: a statistic that is a sum over patches is then a weighted sum.
"""
from __future__ import annotations

import torch
from torch import Tensor

RESAMPLES = 1000
LEVEL = 0.95


def group_counts(groups: int, resamples: int, generator: torch.Generator) -> Tensor:
    """(resamples, groups) float64 counts: how often each group is drawn when ``groups`` are drawn with replacement."""
    if groups < 1:
        raise ValueError("the bootstrap needs at least one group")
    draws = torch.randint(groups, (resamples, groups), generator=generator)
    counts = torch.zeros(resamples, groups, dtype=torch.float64)
    counts.scatter_add_(1, draws, torch.ones_like(draws, dtype=torch.float64))
    return counts


def percentile_interval(values: Tensor, level: float = LEVEL) -> list[float]:
    """[low, high]: the (1 - level)/2 and (1 + level)/2 quantiles of the finite ``values``."""
    finite = values[torch.isfinite(values)].to(torch.float64)
    if finite.numel() == 0:
        return [float("nan"), float("nan")]
    tail = (1 - level) / 2
    low, high = torch.quantile(finite, torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return [low, high]


def group_sizes(groups: Tensor, count: int) -> Tensor:
    """(count,) float64 number of patches in each group."""
    return torch.bincount(groups, minlength=count).to(torch.float64)
