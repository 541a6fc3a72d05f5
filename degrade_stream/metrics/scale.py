"""Content scale: the LQ size distribution of both sides, a warning when they differ, and the HQ downscale
factor that brings a chain's LQ to the real scale.

A 32-px patch of an 80-px LQ covers a 3x larger share of its scene than one of a 240-px LQ, so gradient
energy and spectral bands then differ by content, not by degradation (measured: one bicubic chain scored
Fréchet 5.9 fed 321-px HQ and 3.9 fed 768-px HQ against the same real set; issue 20). Comparisons are
made at matched scale: the HQ is downscaled (never upscaled: that would invent detail) so that the LQ
short side is close to the real median.
"""
from __future__ import annotations

import os
import statistics
from pathlib import Path

from PIL import Image

from ..io import list_images

MAX_MEDIAN_RATIO = 1.5


def image_sizes(folder: str | os.PathLike) -> list[tuple[int, int]]:
    """(height, width) of every image under ``folder`` from the file headers (unreadable files left out)."""
    sizes = []
    for path in list_images(folder):
        try:
            with Image.open(path) as image:
                width, height = image.size
        except Exception:  # PIL raises many types for corrupt files; evaluate lists those in "skipped"
            continue
        sizes.append((height, width))
    return sizes


def size_distribution(sizes: list[tuple[int, int]]) -> dict[str, float | int]:
    """Image count and the short side's median, min, 10th and 90th percentile, and the long side's median."""
    if not sizes:
        raise ValueError("no image sizes to summarise")
    short = sorted(min(h, w) for h, w in sizes)
    long = [max(h, w) for h, w in sizes]

    def quantile(q: float) -> float:
        return float(short[min(len(short) - 1, int(q * len(short)))])

    return {"images": len(sizes), "short_side_median": float(statistics.median(short)), "short_side_min": short[0],
            "short_side_p10": quantile(0.1), "short_side_p90": quantile(0.9),
            "long_side_median": float(statistics.median(long))}


def scale_warning(real: dict[str, float | int], synth: dict[str, float | int],
                  max_ratio: float = MAX_MEDIAN_RATIO) -> str | None:
    """A warning when the short-side medians differ by more than ``max_ratio`` (else None)."""
    a, b = float(real["short_side_median"]), float(synth["short_side_median"])
    ratio = max(a, b) / max(min(a, b), 1.0)
    if ratio <= max_ratio:
        return None
    return (f"content scale differs: the real LQ short side has median {a:.0f} px, the synthesized {b:.0f} px "
            f"({ratio:.1f}x > {max_ratio}x); patch statistics then differ by content as well as degradation. "
            f"Synthesize with --match-scale REAL_DIR (downscales the HQ so the LQ matches the real median)")


def hq_downscale_factor(hq_short_side: int, real_short_median: float, chain_scale: int) -> float:
    """The factor (<= 1) to resize an HQ image by so that its LQ short side (HQ / ``chain_scale``) is the
    real median; 1 when the HQ is already at or below that size (never upscale)."""
    if hq_short_side < 1 or real_short_median <= 0 or chain_scale < 1:
        raise ValueError(f"hq_downscale_factor: need positive sizes and scale, got {hq_short_side}, "
                         f"{real_short_median}, {chain_scale}")
    return min(1.0, real_short_median * chain_scale / hq_short_side)


def matched_size(height: int, width: int, factor: float, multiple: int = 1) -> tuple[int, int]:
    """(height, width) times ``factor`` (<= 1), rounded down to a multiple of ``multiple`` (>= one multiple)."""
    if factor > 1:
        raise ValueError(f"matched_size never upscales, got factor {factor}")
    if factor == 1.0:
        return height, width
    h = max(multiple, int(round(height * factor)) // multiple * multiple)
    w = max(multiple, int(round(width * factor)) // multiple * multiple)
    return h, w


def real_median(folder: str | os.PathLike, option: str = "--match-scale") -> float:
    """The short-side median of the real LQ under ``folder``; an error naming the option when there is none."""
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"{option}: not a folder: {folder}")
    sizes = image_sizes(folder)
    if not sizes:
        raise ValueError(f"{option} {folder}: no readable images")
    return float(size_distribution(sizes)["short_side_median"])
