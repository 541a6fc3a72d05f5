"""Real pair folders in the ``DIR/gt/NAME`` + ``DIR/lq/NAME`` layout: checked and loaded.

Every check runs before any work, so a bad folder is refused with an error naming it and nothing is written.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from ..io import list_images, load_image


@dataclass
class PairSet:
    """Matched real pairs of one folder: names, HQ (gt) and real LQ images, (3, H, W) in [0, 1]."""

    folder: Path
    names: list[str]
    hq: list[Tensor]
    lq: list[Tensor]


def pair_files(folder: str | os.PathLike, option: str) -> list[tuple[str, Path, Path]]:
    """(name, gt path, lq path) for every pair; an error for a missing sub-folder, no images or a lone half."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{option}: not a folder: {folder}")
    for sub in ("gt", "lq"):
        if not (folder / sub).is_dir():
            raise FileNotFoundError(f"{option} {folder}: no {sub}/ folder (expected {folder}/gt/NAME and "
                                    f"{folder}/lq/NAME with the same file names)")
    gt = {p.relative_to(folder / "gt").as_posix(): p for p in list_images(folder / "gt")}
    lq = {p.relative_to(folder / "lq").as_posix(): p for p in list_images(folder / "lq")}
    if not gt and not lq:
        raise ValueError(f"{option} {folder}: gt/ and lq/ hold no images")
    problems = []
    for have, lack, names in (("gt", "lq", sorted(set(gt) - set(lq))), ("lq", "gt", sorted(set(lq) - set(gt)))):
        if names:
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            problems.append(f"{len(names)} image(s) in {have}/ have no file of the same name in {lack}/: "
                            f"{', '.join(names[:3])}{more}")
    if problems:
        raise ValueError(f"{option} {folder}: {'; '.join(problems)}")
    return [(name, gt[name], lq[name]) for name in sorted(gt)]


def load_pairs(folder: str | os.PathLike, option: str) -> PairSet:
    """Load every pair of ``folder``; an error naming the file when HQ and LQ sizes differ."""
    names, hqs, lqs = [], [], []
    for name, gt_path, lq_path in pair_files(folder, option):
        hq, lq = load_image(gt_path), load_image(lq_path)
        if hq.shape != lq.shape:
            raise ValueError(f"{option}: {gt_path} is {hq.shape[2]}x{hq.shape[1]} but {lq_path} is "
                             f"{lq.shape[2]}x{lq.shape[1]}; real pairs must be registered at the same size")
        names.append(name)
        hqs.append(hq)
        lqs.append(lq)
    return PairSet(Path(folder), names, hqs, lqs)
