"""``--match-scale REAL_DIR`` of ``synthesize``, ``sweep`` and ``calibrate``: bring the HQ to the real LQ's scale.

Each HQ image is downscaled (antialiased bicubic; never upscaled) by ``metrics.scale.hq_downscale_factor``,
so that its LQ short side (HQ / the chain's scale) is the median short side of the real LQ under
REAL_DIR. The downscaled copies go to a temporary folder that the command reads as its HQ folder and
removes afterwards; the pairs' gt/ then holds the downscaled HQ, as it must. Images already at or
below the target keep their file (same bytes, same key).
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import kornia

from ..io import list_images, load_image, save_image
from ..metrics.scale import hq_downscale_factor, matched_size, real_median
from .arg_checks import path_arg

HELP = ("downscale each HQ image (never upscale) so that its LQ short side matches the median short side of "
        "the real LQ images in REAL_DIR (content at the real scale; see docs/realism.md)")


def add_match_scale_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--match-scale", metavar="REAL_DIR", type=path_arg, help=HELP)


def write_matched(hq_dir: Path, dest: Path, target_lq_short: float, scale: int) -> dict[str, float]:
    """Write each HQ image of ``hq_dir`` into ``dest`` at the matched size; the factor used per file."""
    factors = {}
    for path in list_images(hq_dir):
        relative = path.relative_to(hq_dir)
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            image = load_image(path)
        except ValueError:  # unreadable: copied as it is, so the command skips it with its usual reason
            shutil.copyfile(path, target)
            continue
        height, width = image.shape[1:]
        factor = hq_downscale_factor(min(height, width), target_lq_short, scale)
        if factor >= 1.0:
            shutil.copyfile(path, target)
        else:
            size = matched_size(height, width, factor, max(1, scale))
            small = kornia.geometry.transform.resize(image[None], size, interpolation="bicubic", antialias=True,
                                                     align_corners=False)[0].clamp(0, 1)
            save_image(small, target.with_suffix(".png"))
        factors[relative.as_posix()] = factor
    return factors


@contextlib.contextmanager
def matched_folder(hq_dir: str | Path, real_dir: str | Path | None, scale: int) -> Iterator[Path]:
    """``hq_dir`` itself without ``real_dir``; else a temporary folder of HQ at the real scale (removed after)."""
    if real_dir is None:
        yield Path(hq_dir)
        return
    median = real_median(real_dir)
    if not Path(hq_dir).is_dir():
        raise FileNotFoundError(f"--hq: not a folder: {hq_dir}")
    with tempfile.TemporaryDirectory(prefix="degrade_stream_match_scale_") as tmp:
        factors = write_matched(Path(hq_dir), Path(tmp), median, scale)
        shrunk = sum(f < 1 for f in factors.values())
        print(f"--match-scale: real LQ short side median {median:.0f} px; {shrunk} of {len(factors)} HQ images "
              f"downscaled (chain scale {scale}), the rest already at or below it (never upscaled)", flush=True)
        yield Path(tmp)
