"""The calibration objective: how far a chain's LQ of the fixed HQ crops is from the real LQ.

Statistics are the realism features of ``evaluate`` (metrics/degradation_stats.py): the degradation
group, plus the colour group with ``colour``. The objective standardises them by the real patches' mean
and std alone (metrics/units.py), so every candidate is measured in the same units as ``evaluate``'s
tables, and clips the standardised values to +-Z_CLIP (a flat patch's log statistics reach 10-15
std; one such patch crossing the line between flat and not makes the distance jump between neighbouring
candidates, measured 0.08 -> 0.19 for a JPEG range [38, 48] -> [38, 50], 0.06 -> 0.07 clipped), and takes the Fréchet distance between the Gaussian fits of real and synthetic
patches. With real pairs it adds a per-pair term: for each HQ crop, the mean standardised statistics
of its synthetic patches minus those of its own real LQ at the same positions, squared and averaged
over features and crops. The set term matches the distributions; the per-pair term removes the
content difference between the two sets (each synthetic LQ is compared with the LQ of its own scene).
With pairs, real and synthetic patches sit at the same positions of the same scenes, so the set term is
the paired distance of ``evaluate --pairs`` (metrics/paired.py). Reported distances: ``report.distances``.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..core.chain import Chain
from ..core.quantize import quantize8
from ..metrics.degradation_stats import degradation_stats, feature_columns
from ..metrics.frechet import frechet_between
from ..metrics.patches import extract_patches
from ..metrics.units import RealUnits
from .samples import Samples

Z_CLIP = 3.0


def crop_patches(crops: Tensor, patch_seeds: list[int], size: int, per_crop: int) -> Tensor:
    """(sum n_i, 3, size, size) patches of each crop at positions drawn from its own seed."""
    parts = [_patches(c, size, per_crop, s) for c, s in zip(crops, patch_seeds)]
    return torch.cat(parts)


def _patches(crop: Tensor, size: int, count: int, seed: int) -> Tensor:
    return extract_patches(crop, size, count, torch.Generator().manual_seed(seed))


def synthesize(chain: Chain, samples: Samples, batch_size: int, device: torch.device) -> Tensor:
    """The chain's LQ of every HQ crop with its fixed seed, as 8-bit levels (what a written PNG holds)."""
    outs = []
    with torch.no_grad():
        for start in range(0, samples.hq.shape[0], batch_size):
            hq = samples.hq[start:start + batch_size].to(device)
            seeds = samples.seeds[start:start + batch_size].to(device)
            outs.append(quantize8(chain(hq, seed=seeds).lq).cpu())
    return torch.cat(outs)


class Objective:
    """Scores candidate chains against fixed real statistics (lower is better)."""

    def __init__(self, samples: Samples, patch_size: int, per_crop: int, colour: bool, batch_size: int,
                 device: torch.device) -> None:
        self.samples, self.patch_size, self.per_crop = samples, patch_size, per_crop
        self.batch_size, self.device = batch_size, device
        self.keep = feature_columns(include_colour=colour)
        self.paired = samples.real_crops is not None
        if self.paired:
            self.counts = [_patches(c, patch_size, per_crop, s).shape[0]
                           for c, s in zip(samples.real_crops, samples.patch_seeds)]
            real = crop_patches(samples.real_crops, samples.patch_seeds, patch_size, per_crop)
        else:
            real = samples.real_patches
        self.real_stats = self.stats(real)
        self.mean: Tensor | None = None
        self.std: Tensor | None = None

    def stats(self, patches: Tensor) -> Tensor:
        """(N, all features) statistics, in float64."""
        out = [degradation_stats(patches[i:i + 4096].to(self.device)).cpu() for i in range(0, patches.shape[0], 4096)]
        return torch.cat(out).to(torch.float64)

    def synth_stats(self, chain: Chain) -> Tensor:
        lq = synthesize(chain, self.samples, self.batch_size, self.device)
        if lq.shape[-1] < self.patch_size or lq.shape[-2] < self.patch_size:
            raise ValueError(f"the chain's LQ of a {self.samples.hq.shape[-1]}-px crop is {lq.shape[-1]} px, "
                             f"smaller than a {self.patch_size}-px patch")
        if self.paired and lq.shape[-2:] != self.samples.real_crops.shape[-2:]:
            raise ValueError(f"the chain's LQ crops are {tuple(lq.shape[-2:])} but the real LQ crops are "
                             f"{tuple(self.samples.real_crops.shape[-2:])}: the chain's scale must match the pairs")
        return self.stats(crop_patches(lq, self.samples.patch_seeds, self.patch_size, self.per_crop))

    def fix_scale(self, start_stats: Tensor | None = None) -> None:
        """Fix the units: the real statistics' mean and std alone (``start_stats`` is not used: fixed units)."""
        units = RealUnits.fit(self.real_stats)
        self.mean, self.std = units.mean, units.std

    def terms(self, synth_stats: Tensor) -> dict[str, float]:
        """The objective and its parts for one candidate's statistics."""
        if self.mean is None:
            raise RuntimeError("fix_scale must run before terms")
        real = ((self.real_stats - self.mean) / self.std)[:, self.keep].clamp(-Z_CLIP, Z_CLIP)
        synth = ((synth_stats - self.mean) / self.std)[:, self.keep].clamp(-Z_CLIP, Z_CLIP)
        terms = {"frechet": frechet_between(real, synth)}
        if self.paired:
            real_means = torch.stack([p.mean(0) for p in real.split(self.counts)])
            synth_means = torch.stack([p.mean(0) for p in synth.split(self.counts)])
            terms["per_pair"] = float((real_means - synth_means).square().mean())
        terms["objective"] = sum(terms.values())
        return terms
