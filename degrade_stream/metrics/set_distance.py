"""Distances between two sets of statistics in fixed units, each with a bootstrap interval over images.

Fréchet distance of the Gaussian fits (Dowson & Landau 1982; Heusel et al. 2017, eq. 1) and KID, the
unbiased estimate of the squared MMD with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3
(Bińkowski et al. 2018, "Demystifying MMD GANs", sec. 4; Gretton et al. 2012, eq. 3). KID has no bias
from the set size, so it suits small sets; it is ~0 in expectation for two sets of one distribution
(and can then be negative). Both are computed from per-image sums, so a bootstrap resample (counts per
image, bootstrap.py) costs a weighted sum, not a recomputation over patches.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .bootstrap import LEVEL, RESAMPLES, group_counts, percentile_interval
from .degradation_stats import feature_columns


def _one_hot(groups: Tensor, count: int) -> Tensor:
    return torch.nn.functional.one_hot(groups, count).to(torch.float64)


def _psd_sqrt(matrix: Tensor) -> Tensor:
    values, vectors = torch.linalg.eigh((matrix + matrix.transpose(-1, -2)) / 2)
    return (vectors * values.clamp(min=0).sqrt().unsqueeze(-2)) @ vectors.transpose(-1, -2)


def _weighted_gaussians(x: Tensor, member: Tensor, counts: Tensor) -> tuple[Tensor, Tensor]:
    """Means (B, D) and unbiased covariances (B, D, D) of ``x`` with per-patch weight counts[:, group]."""
    sizes = counts @ member.sum(0)  # (B,)
    sums = counts @ (member.T @ x)  # (B, D)
    outer = torch.einsum("ng,nd,ne->gde", member, x, x)  # per-group sum of x x^T
    second = torch.einsum("bg,gde->bde", counts, outer)
    mean = sums / sizes[:, None]
    cov = (second - sizes[:, None, None] * mean[:, :, None] * mean[:, None, :]) / (sizes - 1).clamp(min=1)[:, None, None]
    return mean, cov


def frechet_resampled(x: Tensor, gx: Tensor, y: Tensor, gy: Tensor, counts_x: Tensor, counts_y: Tensor) -> Tensor:
    """(B,) squared Fréchet distances between (N, D) ``x`` and (M, D) ``y`` for each row of counts per group."""
    mu1, s1 = _weighted_gaussians(x, _one_hot(gx, counts_x.shape[1]), counts_x)
    mu2, s2 = _weighted_gaussians(y, _one_hot(gy, counts_y.shape[1]), counts_y)
    root1 = _psd_sqrt(s1)
    middle = root1 @ s2 @ root1
    eigen = torch.linalg.eigvalsh((middle + middle.transpose(-1, -2)) / 2).clamp(min=0)
    value = (mu1 - mu2).square().sum(-1) + s1.diagonal(dim1=-2, dim2=-1).sum(-1) \
        + s2.diagonal(dim1=-2, dim2=-1).sum(-1) - 2 * eigen.sqrt().sum(-1)
    return value.clamp(min=0)


def _kernel(a: Tensor, b: Tensor) -> Tensor:
    return (a @ b.T / a.shape[1] + 1) ** 3


def _within_pairs(counts: Tensor, block: Tensor, diagonal: Tensor, sizes: Tensor) -> tuple[Tensor, Tensor]:
    """(kernel sum, number of pairs) over the pairs of distinct patches of one resampled set.

    Two copies of one image drawn twice would pair every patch with itself; only pairs from one draw of
    an image, or from draws of different images, count (the point estimate, all counts 1, is the plain
    U-statistic).
    """
    total = torch.einsum("bg,gh,bh->b", counts, block, counts)
    same = block.diagonal()
    kernel = total - (counts * counts) @ same + counts @ (same - diagonal)
    pairs = (counts @ sizes) ** 2 - (counts * counts) @ sizes.square() + counts @ (sizes * (sizes - 1))
    return kernel, pairs


def kid_resampled(x: Tensor, gx: Tensor, y: Tensor, gy: Tensor, counts_x: Tensor, counts_y: Tensor) -> Tensor:
    """(B,) unbiased squared MMD (cubic polynomial kernel) for each row of counts per group."""
    mx, my = _one_hot(gx, counts_x.shape[1]), _one_hot(gy, counts_y.shape[1])
    kxx, kyy = _kernel(x, x), _kernel(y, y)
    sxx, pxx = _within_pairs(counts_x, mx.T @ kxx @ mx, mx.T @ kxx.diagonal(), mx.sum(0))
    syy, pyy = _within_pairs(counts_y, my.T @ kyy @ my, my.T @ kyy.diagonal(), my.sum(0))
    sxy = torch.einsum("bg,gh,bh->b", counts_x, mx.T @ _kernel(x, y) @ my, counts_y)
    return sxx / pxx + syy / pyy - 2 * sxy / ((counts_x @ mx.sum(0)) * (counts_y @ my.sum(0)))


def centred_interval(estimate: float, resampled: Tensor, level: float, floor: float | None = None) -> list[float]:
    """The percentile interval moved so that the bootstrap median sits on the estimate.

    Resampling images duplicates them, which inflates a Fréchet distance (its covariance term); the
    shift removes that bias (Efron & Tibshirani 1993, sec. 10.6) and keeps the interval's width.
    """
    finite = resampled[torch.isfinite(resampled)]
    if finite.numel() == 0:
        return [float("nan"), float("nan")]
    shift = estimate - float(finite.median())
    low, high = (v + shift for v in percentile_interval(finite, level))
    return [low if floor is None else max(low, floor), high]


def set_distances(real: Tensor, real_groups: Tensor, synth: Tensor, synth_groups: Tensor, paired: bool = False,
                  seed: int = 0, resamples: int = RESAMPLES, level: float = LEVEL) -> dict[str, float | list[float]]:
    """Fréchet and KID, with all statistics and the degradation group only, each with its bootstrap interval.

    ``real`` and ``synth`` are (N, F) statistics already in fixed units. ``paired``: the two sets share
    their groups (the same scenes), which are resampled together; otherwise each set's images are
    resampled on their own.
    """
    real_count, synth_count = int(real_groups.max()) + 1, int(synth_groups.max()) + 1
    generator = torch.Generator().manual_seed(seed)
    counts_x = torch.cat([torch.ones(1, real_count, dtype=torch.float64),
                          group_counts(real_count, resamples, generator)])
    if paired:
        if real_count != synth_count:
            raise ValueError(f"paired sets must share their groups, got {real_count} and {synth_count}")
        counts_y = counts_x
    else:
        counts_y = torch.cat([torch.ones(1, synth_count, dtype=torch.float64),
                              group_counts(synth_count, resamples, generator)])
    out: dict[str, float | list[float]] = {}
    for label, colour in (("all", True), ("degradation", False)):
        keep = feature_columns(include_colour=colour)
        x, y = real[:, keep].to(torch.float64), synth[:, keep].to(torch.float64)
        for name, measure in (("frechet", frechet_resampled), ("kid", kid_resampled)):
            values = measure(x, real_groups, y, synth_groups, counts_x, counts_y)
            out[f"{name}_{label}"] = float(values[0])
            out[f"{name}_{label}_ci"] = centred_interval(float(values[0]), values[1:], level,
                                                         0.0 if name == "frechet" else None)
    out["real_images"], out["synth_images"] = real_count, synth_count
    return out
