"""The offline writer's plan: which pairs to write, under which names, in which batches.

Batches are formed over the whole input folder (images of equal cropped size, sorted by name) before
any sharding or resuming, and shards take whole batches round-robin. So a pair is always computed in
the same batch, whichever shard, rerun or resume computes it: its bytes never depend on how the work
was split (CPU convolutions can differ in the last float bit with batch composition).
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..atomic import NAME_MAX, name_max
from ..io import IMAGE_EXTENSIONS, flat_name, list_images
from ..stream.crop import scale_multiple

#: More LQ variants per image than this is taken for a typo (the plan holds one entry per pair in memory).
MAX_VARIANTS = 1000
#: One batch holds this many HQ images at most (as training's batch bound): a huge --batch-size would put a whole
#: folder in memory at once.
MAX_BATCH_SIZE = 4096


@dataclass(frozen=True)
class PairUnit:
    """One (HQ, LQ) pair to write: source key (path relative to --hq), output name, variant, HQ crop size."""

    key: str
    name: str
    variant: int | None
    height: int
    width: int

    @property
    def lq_name(self) -> str:
        return self.name if self.variant is None else f"{self.name}_v{self.variant}"


@dataclass
class PairPlan:
    """Batches of pair units, the source file of each key, and files that cannot be used (key -> reason)."""

    batches: list[list[PairUnit]]
    sources: dict[str, Path]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def pair_count(self) -> int:
        return sum(len(b) for b in self.batches)


def _image_size(path: Path) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the pixels."""
    with Image.open(path) as image:
        width, height = image.size
    return height, width


def input_images(hq_dir: str | os.PathLike, out_dir: str | os.PathLike | None) -> list[Path]:
    """The image files under --hq, less those under --out when --out lies inside --hq (a rerun must not
    read its own gt/ and lq/ as new HQ). --out equal to --hq, or --hq inside the gt/ or lq/ that --out
    writes, is refused."""
    hq_dir = Path(hq_dir)
    if not hq_dir.is_dir():
        raise FileNotFoundError(f"--hq: not a folder: {hq_dir}{' (it is a file)' if hq_dir.exists() else ''}")
    exclude: list[Path] = []
    if out_dir is not None:
        hq_real, out_real = Path(os.path.realpath(hq_dir)), Path(os.path.realpath(out_dir))
        if hq_real == out_real or any(hq_real.is_relative_to(out_real / sub) for sub in ("gt", "lq")):
            raise ValueError(f"--hq {hq_dir} is --out {out_dir} or lies in its gt/ or lq/: the pairs would be "
                             "written among their own inputs; choose another --out folder")
        if out_real.is_relative_to(hq_real):
            exclude.append(out_real)
    paths = list_images(hq_dir, exclude=exclude)
    if not paths:
        raise ValueError(f"no image files under {hq_dir} (looked for {', '.join(IMAGE_EXTENSIONS)}"
                         + (f"; {out_dir} left out, it is the output folder)" if exclude else ")"))
    return paths


def output_name_limit(out_dir: str | os.PathLike | None) -> int:
    """The longest file name (bytes) the file system of ``out_dir`` (or its nearest existing parent) takes."""
    if out_dir is None:
        return NAME_MAX
    folder = Path(out_dir).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return name_max(folder)


def _name_problem(name: str, variants: int, limit: int) -> str | None:
    """Why the output files of ``name`` cannot be written (their longest name over ``limit`` bytes), or None."""
    longest = f"{name}{'' if variants == 1 else f'_v{variants - 1}'}.png"
    size = len(longest.encode("utf-8", "surrogateescape"))
    if size <= limit:
        return None
    return (f"output name too long: {longest[:40]}...{longest[-12:]} is {size} bytes, the file system takes at "
            f"most {limit}; rename the file or its folders (the name is its path under --hq with / as __)")


def check_batch_size(batch_size: object) -> None:
    """``--batch-size`` is an integer in [1, MAX_BATCH_SIZE]: the one bound (and message) of every command that
    takes it (synthesize through ``plan_pairs``; sweep, calibrate and compare-chains before any work)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"--batch-size must be an integer in [1, {MAX_BATCH_SIZE}], got {batch_size!r}")


def plan_pairs(hq_dir: str | os.PathLike, scale: int, variants: int, batch_size: int, min_side: int = 1,
               out_dir: str | os.PathLike | None = None) -> PairPlan:
    """Plan every pair for the images under ``hq_dir`` (less ``out_dir``); a clear error if there are none.

    An image whose crop to a multiple of ``scale`` is under ``min_side`` px in height or width (what
    the chain needs, see Chain.min_input_side), or whose output name is longer than ``out_dir``'s file system
    takes, is skipped with the reason, so one such file never stops a run.
    """
    if isinstance(variants, bool) or not isinstance(variants, int) or not 1 <= variants <= MAX_VARIANTS:
        raise ValueError(f"--variants must be an integer in [1, {MAX_VARIANTS}], got {variants!r}")
    check_batch_size(batch_size)
    hq_dir = Path(hq_dir)
    paths = input_images(hq_dir, out_dir)
    sources: dict[str, Path] = {}
    names: dict[str, str] = {}
    skipped: dict[str, str] = {}
    groups: dict[tuple[int, int], list[PairUnit]] = defaultdict(list)
    limit = output_name_limit(out_dir)
    for path in paths:
        relative = path.relative_to(hq_dir)
        key, name = relative.as_posix(), flat_name(relative)
        if name in names:
            raise ValueError(f"{names[name]} and {key} would both be written as {name}.png; rename one of them")
        names[name] = key
        sources[key] = path
        problem = _name_problem(name, variants, limit)
        if problem is not None:
            skipped[key] = problem
            continue
        try:
            height, width = _image_size(path)
        except Exception as err:  # PIL raises many types for corrupt/unsupported files
            skipped[key] = f"cannot read image: {err}"
            continue
        height, width = scale_multiple(height, width, scale)
        if height < max(min_side, 1) or width < max(min_side, 1):
            skipped[key] = (f"too small: {width}x{height} px after cropping to a multiple of the scale {scale}; "
                            f"this chain needs at least {min_side}x{min_side} px")
            continue
        for k in range(variants):
            groups[(height, width)].append(PairUnit(key, name, None if variants == 1 else k, height, width))
    batches: list[list[PairUnit]] = []
    for size in sorted(groups):
        units = sorted(groups[size], key=lambda u: (u.name, u.variant or 0))
        batches.extend(units[i:i + batch_size] for i in range(0, len(units), batch_size))
    return PairPlan(batches=batches, sources=sources, skipped=skipped)
