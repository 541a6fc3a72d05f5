"""The fixed inputs of a calibration: HQ crops with their seeds, and the real LQ patches.

Common random numbers: every candidate chain degrades the same HQ crops with the same per-sample
seeds, and its patches are cut at the same positions, so two candidates differ only by their
arguments. Crops are square, their side a multiple of 8 x the chain's scale, at origins on the same
grid, so a crop's LQ keeps the 8-px JPEG grid at its origin (as in the real image it is compared with
in ``--pairs`` mode). Real patches are cut as ``evaluate`` cuts them (metrics/patches.py): 8-px-grid
origins drawn from a generator seeded by (seed, image index).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from ..core.chain import Chain
from ..io import list_images, load_image
from ..metrics.patches import extract_patches

#: the default LQ side of a crop (in LQ pixels): 64 holds 25 grid origins of a 32-px patch
DEFAULT_LQ_CROP = 64


@dataclass
class Samples:
    """HQ crops (N, 3, C, C), their seeds (N,), and per crop the generator seed of its patch positions;
    real LQ patches (folder mode) or real LQ crops aligned with the HQ crops (pairs mode)."""

    hq: Tensor
    seeds: Tensor
    patch_seeds: list[int]
    real_patches: Tensor | None = None
    real_crops: Tensor | None = None
    sources: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def read_list(path: Path) -> list[Path]:
    """Image paths from a .txt list: one per line, '#' comments, relative paths relative to the list."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read the image list {path}: {err}") from None
    paths = [Path(s) if os.path.isabs(s) else path.parent / s
             for s in (line.strip() for line in lines) if s and not s.startswith("#")]
    if not paths:
        raise ValueError(f"the image list {path} names no image")
    return paths


def image_paths(source: str | os.PathLike, option: str) -> list[Path]:
    """The images of a folder or a .txt list, with a clear error for a missing or empty one."""
    source = Path(source)
    if source.is_file() and source.suffix.lower() == ".txt":
        return read_list(source)
    if not source.exists():
        raise FileNotFoundError(f"{option}: no such folder {source}")
    if not source.is_dir():
        raise ValueError(f"{option} {source}: expected a folder of images or a .txt list of image paths")
    paths = list_images(source)
    if not paths:
        raise ValueError(f"{option}: no image files under {source}")
    return paths


def real_patches(paths: list[Path], option: str, size: int, per_image: int, seed: int) -> tuple[Tensor, list[str]]:
    """Patches of every readable real image, cut as ``evaluate`` cuts them, and the files left out."""
    chunks, skipped = [], []
    for index, path in enumerate(paths):
        try:
            image = load_image(path)
        except (ValueError, OSError) as err:
            skipped.append(str(err))
            continue
        patches = extract_patches(image, size, per_image, torch.Generator().manual_seed(seed * 1_000_003 + index))
        if patches.shape[0] == 0:
            skipped.append(f"{path.name}: smaller than a {size}x{size} patch")
            continue
        chunks.append(patches)
    if not chunks:
        raise ValueError(f"{option}: no usable real image (readable and at least {size}x{size} px) among "
                         f"{len(paths)} files: {'; '.join(skipped[:3])}")
    return torch.cat(chunks), skipped


def crop_side(chain: Chain, sizes: dict[str, tuple[int, int]], patch_size: int, crop: int | None, option: str) -> int:
    """The HQ crop side: ``crop`` (default 64 LQ px x the chain's scale), shrunk to the smallest image, on the
    grid of 8 x scale; an error naming the image when one is smaller than the chain or a patch needs."""
    step = 8 * max(1, chain.scale)
    lq_scale = max(1, chain.min_input_side // 8)  # a resize_back model still needs 8 LQ px per side inside
    want = crop if crop is not None else DEFAULT_LQ_CROP * max(chain.scale, lq_scale)
    need = max(chain.min_input_side, patch_size * chain.scale, step)
    name, (h, w) = min(sizes.items(), key=lambda kv: min(kv[1]))
    side = min(want, min(h, w)) // step * step
    if side < need:
        raise ValueError(f"{option}: image {name} is {w}x{h}, smaller than the chain and a {patch_size}-px patch "
                         f"need ({need}x{need} px at least); use larger HQ images or a smaller --patch-size")
    return side


def _origins(h: int, w: int, side: int, step: int, count: int, generator: torch.Generator) -> list[tuple[int, int]]:
    ys = list(range(0, h - side + 1, step))
    xs = list(range(0, w - side + 1, step))
    pick = torch.randperm(len(ys) * len(xs), generator=generator)[:count].tolist()
    return [(ys[p // len(xs)], xs[p % len(xs)]) for p in pick]


def _assignment(n_images: int, crops: int) -> list[int]:
    """How many crops each image gives: ``crops`` in all, round-robin; evenly spaced images if fewer crops."""
    if crops >= n_images:
        return [crops // n_images + (1 if i < crops % n_images else 0) for i in range(n_images)]
    chosen = {round(i * n_images / crops) for i in range(crops)}
    return [1 if i in chosen else 0 for i in range(n_images)]


def hq_samples(chain: Chain, hq: list[Path], option: str, crops: int, crop: int | None, patch_size: int,
               seed: int, lq: list[Path] | None = None) -> Samples:
    """Crops of the HQ images (and, with ``lq``, of the real LQ of each at the same place)."""
    counts = _assignment(len(hq), crops)
    images: dict[int, Tensor] = {}
    skipped: list[str] = []
    for i, path in enumerate(hq):
        if counts[i]:
            try:
                images[i] = load_image(path)
            except (ValueError, OSError) as err:
                if lq is not None:
                    raise ValueError(f"{option}: {err}") from None
                skipped.append(str(err))
    if not images:
        raise ValueError(f"{option}: no readable HQ image among {len(hq)} files: {'; '.join(skipped[:3])}")
    sizes = {hq[i].name: (int(t.shape[1]), int(t.shape[2])) for i, t in images.items()}
    side = crop_side(chain, sizes, patch_size, crop, option)
    scale, step = max(1, chain.scale), 8 * max(1, chain.scale)
    hq_crops, real_crops, sources, patch_seeds = [], [], [], []
    for i, image in images.items():
        generator = torch.Generator().manual_seed(seed * 1_000_003 + i)
        real = _paired_lq(lq[i], hq[i], image, scale, option) if lq is not None else None
        for y, x in _origins(image.shape[1], image.shape[2], side, step, counts[i], generator):
            hq_crops.append(image[:, y:y + side, x:x + side])
            sources.append(f"{hq[i].name}@{y},{x}")
            patch_seeds.append(seed * 1_000_003 + i)  # evaluate's rule: a whole-image crop gets evaluate's patches
            if real is not None:
                real_crops.append(real[:, y // scale:(y + side) // scale, x // scale:(x + side) // scale])
    n = len(hq_crops)
    return Samples(hq=torch.stack(hq_crops), seeds=torch.arange(n, dtype=torch.int64) + seed * 1_000_003,
                   patch_seeds=patch_seeds,
                   real_crops=torch.stack(real_crops) if real_crops else None, sources=sources, skipped=skipped)


def _paired_lq(lq_path: Path, hq_path: Path, hq: Tensor, scale: int, option: str) -> Tensor:
    try:
        lq = load_image(lq_path)
    except (ValueError, OSError) as err:
        raise ValueError(f"{option}: {err}") from None
    want = (hq.shape[1] // scale, hq.shape[2] // scale)
    if tuple(lq.shape[1:]) != want:
        raise ValueError(f"{option}: {lq_path} is {lq.shape[2]}x{lq.shape[1]} but its HQ {hq_path.name} is "
                         f"{hq.shape[2]}x{hq.shape[1]}; the chain (scale {scale}) makes {want[1]}x{want[0]}")
    return lq


def pair_paths(folder: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """(HQ, LQ) paths of a pairs folder DIR/gt/NAME + DIR/lq/NAME, matched by file name."""
    folder = Path(folder)
    gt, lq = folder / "gt", folder / "lq"
    for sub in (gt, lq):
        if not sub.is_dir():
            raise FileNotFoundError(f"--pairs: no folder {sub} (expected DIR/gt/NAME and DIR/lq/NAME)")
    lq_by_name = {p.relative_to(lq).as_posix(): p for p in list_images(lq)}
    hq_paths, lq_paths = [], []
    for p in list_images(gt):
        match = lq_by_name.get(p.relative_to(gt).as_posix())
        if match is not None:
            hq_paths.append(p)
            lq_paths.append(match)
    if not hq_paths:
        raise ValueError(f"--pairs: no image under {gt} has an image of the same name under {lq}")
    return hq_paths, lq_paths
