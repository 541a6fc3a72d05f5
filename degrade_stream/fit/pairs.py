"""The aligned pairs a camera is fitted from: found, read, scaled to the L grid and checked, each refusal
naming the pair.

Layout: DIR/gt/NAME + DIR/lq/NAME (as ``synthesize`` writes and BasicSR's paired datasets read). L may be
smaller than H by a scale s (the same on both axes and for every pair, within ``SCALE_TOLERANCE``); H is
then brought to L's grid by an antialiased bicubic resize, which handles any real s, and the kernel is
fitted on that grid (what remains of the blur beyond the resize). The ``camera`` stage itself takes
integer scales only, like every stage of the project (``Chain.scale`` is an integer), so ``fit-camera``
refuses pairs at a non-integer scale with the measured ratio.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from ..degrade.resize import resize
from ..io import load_image
from ..restore.pairs import pair_files
from .registration import Registration, register

#: relative disagreement allowed between the two axes' size ratios, and between a ratio and an integer
SCALE_TOLERANCE = 0.01


@dataclass(frozen=True)
class AlignmentBounds:
    """What counts as aligned: phase-correlation peak, global shift and median tile deviation (px)."""

    min_peak: float = 0.05
    max_shift: float = 4.0
    max_local_error: float = 2.0


@dataclass
class CameraPair:
    """One pair: its name, H on L's grid, L, the measured H/L scale and the registration."""

    name: str
    hq: Tensor
    lq: Tensor
    scale: float
    registration: Registration


def _read(name: str, path: Path) -> Tensor:
    try:
        return load_image(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"pair {name}: {path} disappeared while reading") from None
    except ValueError as err:
        raise ValueError(f"pair {name}: {err}") from None


def measure_scale(name: str, hq: Tensor, lq: Tensor) -> float:
    """The H/L size ratio of one pair; an error naming the pair when the axes disagree or L is larger."""
    (_, h, w), (_, lh, lw) = hq.shape, lq.shape
    ry, rx = h / lh, w / lw
    if abs(ry - rx) > SCALE_TOLERANCE * max(ry, rx):
        raise ValueError(f"pair {name}: H is {w}x{h} and L is {lw}x{lh}: different sizes whose ratios differ "
                         f"between the axes ({rx:.3f} across, {ry:.3f} down); the pair is not one picture at "
                         f"one scale (crop both to the same field of view)")
    if ry < 1 - SCALE_TOLERANCE:
        raise ValueError(f"pair {name}: L ({lw}x{lh}) is larger than H ({w}x{h}); gt/ must hold the high-quality "
                         f"image and lq/ the degraded one")
    return (ry + rx) / 2


def integer_scale(pairs: list[tuple[str, float]]) -> int:
    """The common integer scale of all pairs; an error naming the first pair off it."""
    first_name, first = pairs[0]
    scale = max(1, round(first))
    for name, ratio in pairs:
        if abs(ratio - scale) > SCALE_TOLERANCE * scale:
            if abs(ratio - first) <= SCALE_TOLERANCE * first:
                raise ValueError(f"pair {name}: H/L size ratio {ratio:.3f} is not an integer; the camera stage "
                                 f"takes integer scales (resize your H by {scale / ratio:.4f} first)")
            raise ValueError(f"pair {name}: H/L size ratio {ratio:.3f} differs from pair {first_name}'s "
                             f"{first:.3f}; all pairs must share one scale")
    return scale


def check_alignment(name: str, reg: Registration, bounds: AlignmentBounds) -> None:
    """A clear error naming the pair and the measured registration error when it is over a bound."""
    if reg.peak < bounds.min_peak:
        raise ValueError(f"pair {name}: H and L do not register (phase-correlation peak {reg.peak:.3f} < "
                         f"{bounds.min_peak}): different scenes, or not aligned")
    if reg.shift > bounds.max_shift:
        raise ValueError(f"pair {name}: misaligned: L is shifted by ({reg.dy:.2f}, {reg.dx:.2f}) px from H "
                         f"(|shift| {reg.shift:.2f} > {bounds.max_shift} px); register the pair first")
    if reg.local_error > bounds.max_local_error:
        raise ValueError(f"pair {name}: misaligned: textured tiles are off the global shift by "
                         f"{reg.local_error:.2f} px (median over {reg.tiles} tiles > {bounds.max_local_error} px)")


def read_pair(name: str, gt: Path, lq: Path) -> tuple[Tensor, Tensor, float]:
    """(H on L's grid, L, measured H/L scale) of one pair."""
    hq, low = _read(name, gt), _read(name, lq)
    scale = measure_scale(name, hq, low)
    on_grid = hq if hq.shape == low.shape else resize(hq[None], tuple(low.shape[-2:]), "bicubic")[0]
    return on_grid, low, scale


def load_camera_pair(name: str, gt: Path, lq: Path, bounds: AlignmentBounds) -> CameraPair:
    """Read one pair, bring H to L's grid and check its alignment."""
    on_grid, low, scale = read_pair(name, gt, lq)
    reg = register(on_grid, low)
    check_alignment(name, reg, bounds)
    return CameraPair(name, on_grid, low, scale, reg)


def pair_list(folder: str | os.PathLike, min_pairs: int = 2) -> list[tuple[str, Path, Path]]:
    """(name, gt, lq) of every pair of ``folder``; errors for a missing side (named) or too few pairs."""
    found = pair_files(folder, "--pairs")
    if len(found) < min_pairs:
        raise ValueError(f"--pairs {folder}: {len(found)} pair(s) found, a camera fit needs at least {min_pairs}")
    return found
