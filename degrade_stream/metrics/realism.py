"""Realism of synthesized LQ against real LQ, image-level, with its null row: no downloaded weights.

Every figure comes with the floor it must be read against. The real set is split into two
image-disjoint halves A and B; the null row measures A against B (real against real: the value an
indistinguishable synthetic set would get, with its sampling noise), and the synthetic row measures A
against the synthetic set, subsampled to as many images as B, so both rows have the same sizes. All
statistics are in the units of the whole real set (units.py), for every row and every synthetic set.
Measures per row (each with a bootstrap interval over images): Fréchet distance and KID of the
degradation statistics (set_distance.py), with all statistics and without the colour group, and the
image-disjoint classifier two-sample test (two_sample.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .bootstrap import RESAMPLES
from .degradation_stats import degradation_stats
from .image_patches import PatchSet
from .scale import size_distribution
from .set_distance import set_distances
from .two_sample import MIN_GROUPS, classifier_two_sample_test
from .units import RealUnits


def compute_stats(patches: PatchSet, device: torch.device | str = "cpu", chunk: int = 4096) -> PatchSet:
    """``patches`` with its (N, F) degradation statistics filled in (computed once)."""
    if patches.stats is None:
        x = patches.patches
        patches.stats = torch.cat([degradation_stats(x[i:i + chunk].to(device)).cpu()
                                   for i in range(0, x.shape[0], chunk)]).to(torch.float64)
    return patches


def split_halves(real: PatchSet, seed: int) -> tuple[PatchSet, PatchSet]:
    """Two image-disjoint halves (A gets the extra image of an odd count), drawn with a seeded generator."""
    order = torch.randperm(real.group_count, generator=torch.Generator().manual_seed(seed)).tolist()
    half = (real.group_count + 1) // 2
    return real.subset(sorted(order[:half])), real.subset(sorted(order[half:]))


@dataclass
class Settings:
    """What every row of one comparison shares."""

    seed: int = 0
    steps: int = 300
    classifier: bool = True
    device: str = "cpu"
    resamples: int = RESAMPLES


def measure_row(real: PatchSet, synth: PatchSet, units: RealUnits, s: Settings, paired: bool = False) -> dict[str, Any]:
    """One row: distances in ``units`` and the classifier, each with its bootstrap interval."""
    row: dict[str, Any] = {"real_patches": int(real.groups.numel()), "synth_patches": int(synth.groups.numel()),
                           **set_distances(units(real.stats), real.groups, units(synth.stats), synth.groups,
                                           paired=paired, seed=s.seed, resamples=s.resamples)}
    if s.classifier:
        row["classifier"] = classifier_two_sample_test(real.patches, synth.patches, real.groups, synth.groups,
                                                       shared_groups=paired, seed=s.seed, steps=s.steps,
                                                       device=s.device, resamples=s.resamples)
    return row


class RealReference:
    """The real side of every comparison: its units, its halves A and B, and the null row (A vs B)."""

    def __init__(self, real: PatchSet, settings: Settings) -> None:
        need = 2 * MIN_GROUPS if settings.classifier else 2
        if real.group_count < need:
            raise ValueError(f"the real set has {real.group_count} image(s); the null row splits it into two "
                             f"image-disjoint halves and needs at least {need}"
                             + (" (2 with --no-classifier)" if settings.classifier else ""))
        self.settings = settings
        compute_stats(real, settings.device)
        self.units = RealUnits.fit(real.stats)
        self.half_a, self.half_b = split_halves(real, settings.seed)
        self.real_images = real.group_count
        self.sizes: dict[str, Any] = size_distribution(real.sizes) if real.sizes else {}
        self.skipped: list[str] = list(real.skipped)
        self.null = measure_row(self.half_a, self.half_b, self.units, settings)

    def comparable(self, synth: PatchSet) -> PatchSet:
        """``synth`` subsampled (seeded) to as many images as half B, when it has more."""
        if synth.group_count <= self.half_b.group_count:
            return synth
        order = torch.randperm(synth.group_count, generator=torch.Generator().manual_seed(self.settings.seed + 7))
        return synth.subset(sorted(order[:self.half_b.group_count].tolist()))

    def report(self, synth: PatchSet) -> dict[str, Any]:
        """{"null": A vs B, "synth": A vs the synthetic set, ...}: print them together."""
        compute_stats(synth, self.settings.device)
        used = self.comparable(synth)
        return {"null": self.null, "synth": measure_row(self.half_a, used, self.units, self.settings),
                "real_images": self.real_images, "half_a_images": self.half_a.group_count,
                "half_b_images": self.half_b.group_count, "synth_images_total": synth.group_count,
                "units": "statistics standardised by the mean and std of the whole real set"}


def realism_with_null(real: PatchSet, synth: PatchSet, settings: Settings | None = None) -> dict[str, Any]:
    """The synthetic row and its null row, measured in the real set's units (see ``RealReference``)."""
    return RealReference(real, settings or Settings()).report(synth)
