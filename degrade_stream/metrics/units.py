"""Fixed units for degradation statistics: standardised by the real set alone.

Standardising by the pooled (real + synthetic) spread changes the unit with every comparison, so two
rows of one table are not comparable and a chain can lower its distance by widening its own spread.
Here every statistic is centred and scaled by the mean and std of the real patches only; every row of
a table, every t of a sweep and every candidate of a calibration is then measured in the same units.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .degradation_stats import FEATURE_NAMES

_MIN_STD = 1e-8


@dataclass(frozen=True)
class RealUnits:
    """Per-statistic mean and std (float64) of the real set."""

    mean: Tensor
    std: Tensor

    @classmethod
    def fit(cls, real_stats: Tensor) -> "RealUnits":
        """Units from (N, F) statistics of real patches (N >= 2)."""
        if real_stats.dim() != 2 or real_stats.shape[0] < 2:
            raise ValueError(f"real units need (N >= 2, F) statistics, got shape {tuple(real_stats.shape)}")
        x = real_stats.to(torch.float64)
        return cls(x.mean(0), x.std(0).clamp(min=_MIN_STD))

    def __call__(self, stats: Tensor) -> Tensor:
        """(N, F) statistics in real units (float64)."""
        return (stats.to(torch.float64) - self.mean) / self.std

    def as_dict(self) -> dict[str, dict[str, float]]:
        """JSON-safe {statistic: {mean, std}} (the units a report is in)."""
        return {name: {"mean": float(m), "std": float(s)} for name, m, s in zip(FEATURE_NAMES, self.mean, self.std)}
