"""Non-overlapping patches with image (group) ids: the unit of every realism measure.

Two-sample tests and bootstrap intervals need independent units. Patches that overlap, or patches of one
image that land on both sides of a train/test split, let a classifier win by recognising content rather
than degradation (Lopez-Paz & Oquab 2017 assume i.i.d. samples; the image is the sampling unit, not the
patch). So each image is tiled into disjoint cells on a grid whose phase is a multiple of 8 px (JPEG's
block grid, ITU-T T.81 sec. A.2), up to ``per_image`` cells are drawn, and every patch carries the id of
its image's group: the variants ``x_v0``, ``x_v1`` of one HQ image form one group.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import torch
from torch import Tensor
from tqdm import tqdm

from ..io import flat_name, list_images, load_image

GRID = 8
_VARIANT_SUFFIX = re.compile(r"_v\d+$")


def group_name(name: str) -> str:
    """The group of an image name: its variants (``x_v3``) belong to the image they were made from (``x``)."""
    return _VARIANT_SUFFIX.sub("", name)


def grid_positions(height: int, width: int, size: int, count: int, generator: torch.Generator) -> list[tuple[int, int]]:
    """Up to ``count`` top-left corners of disjoint ``size`` x ``size`` cells of an H x W image.

    The tiling's phase is drawn from the multiples of 8 px that still fit; the cells are then drawn
    without replacement. Empty when the image is smaller than one cell.
    """
    if size % GRID:
        raise ValueError(f"patch size must be a multiple of {GRID}, got {size}")
    if height < size or width < size:
        return []
    phase_y = int(torch.randint((height % size) // GRID + 1, (1,), generator=generator)) * GRID
    phase_x = int(torch.randint((width % size) // GRID + 1, (1,), generator=generator)) * GRID
    ny, nx = (height - phase_y) // size, (width - phase_x) // size
    pick = torch.randperm(ny * nx, generator=generator)[:count].sort().values.tolist()
    return [(phase_y + p // nx * size, phase_x + p % nx * size) for p in pick]


def cut(image: Tensor, positions: list[tuple[int, int]], size: int) -> Tensor:
    """(n, C, size, size) crops of a (C, H, W) image at ``positions``."""
    if not positions:
        return image.new_zeros(0, image.shape[0], size, size)
    return torch.stack([image[:, y:y + size, x:x + size] for y, x in positions]).contiguous()


def image_seed(seed: int, index: int) -> int:
    """The generator seed of image ``index``'s patch positions."""
    return seed * 1_000_003 + index


@dataclass
class PatchSet:
    """Patches (N, 3, P, P) in [0, 1], the group id (N,) of each, the group names, and the image sizes (H, W)."""

    patches: Tensor
    groups: Tensor
    names: list[str]
    sizes: list[tuple[int, int]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    stats: Tensor | None = None

    @property
    def group_count(self) -> int:
        return len(self.names)

    def subset(self, group_ids: list[int]) -> "PatchSet":
        """The patches of the listed groups, renumbered 0..k-1 in the order given."""
        index = torch.tensor(group_ids, dtype=torch.long)
        remap = torch.full((self.group_count,), -1, dtype=torch.long)
        remap[index] = torch.arange(len(group_ids))
        keep = remap[self.groups] >= 0
        return PatchSet(self.patches[keep], remap[self.groups[keep]], [self.names[i] for i in group_ids],
                        stats=None if self.stats is None else self.stats[keep])


def patch_set(images: Iterable[tuple[str, Tensor | str]], size: int = 32, per_image: int = 64,
              seed: int = 0) -> PatchSet:
    """Patches of named (3, H, W) images (a str in place of an image: why it could not be read, listed in
    ``skipped``); images whose names share a group (``group_name``) share an id."""
    chunks, groups, sizes, skipped = [], [], [], []
    ids: dict[str, int] = {}
    count = 0
    for index, (name, image) in enumerate(images):
        count += 1
        if isinstance(image, str):
            skipped.append(image)
            continue
        sizes.append((int(image.shape[1]), int(image.shape[2])))
        positions = grid_positions(image.shape[1], image.shape[2], size, per_image,
                                   torch.Generator().manual_seed(image_seed(seed, index)))
        if not positions:
            skipped.append(f"{name}: smaller than a {size}x{size} patch")
            continue
        gid = ids.setdefault(group_name(name), len(ids))
        chunks.append(cut(image, positions, size))
        groups.append(torch.full((len(positions),), gid, dtype=torch.long))
    if not chunks:
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        raise ValueError(f"no usable image (readable, at least {size}x{size} px) among {count}: "
                         f"{'; '.join(skipped[:3])}{more}")
    return PatchSet(torch.cat(chunks), torch.cat(groups), list(ids), sizes, skipped)


def folder_patch_set(folder: str | os.PathLike, size: int = 32, per_image: int = 64, seed: int = 0,
                     max_images: int | None = None, progress: bool = False) -> PatchSet:
    """``patch_set`` of every image under ``folder``, named by ``flat_name`` (unreadable ones in ``skipped``)."""
    folder = Path(folder)
    paths = list_images(folder)[:max_images]
    if not paths:
        raise ValueError(f"no image files under {folder}")

    def images() -> Iterator[tuple[str, Tensor | str]]:
        for path in tqdm(paths, desc=f"patches {folder.name}", unit="image", disable=not progress,
                         dynamic_ncols=True, leave=False):
            try:
                yield flat_name(path.relative_to(folder)), load_image(path)
            except ValueError as err:
                yield path.name, str(err)

    try:
        return patch_set(images(), size, per_image, seed)
    except ValueError as err:
        raise ValueError(f"{folder}: {err}") from None
