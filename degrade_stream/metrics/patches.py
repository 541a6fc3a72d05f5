"""Patches for realism statistics: fixed-size crops whose origins lie on the 8-pixel grid.

JPEG's 8x8 block grid starts at the image origin (ITU-T T.81, sec. A.2), so the 8-px alignment keeps the
block boundaries at the same place in every patch, and the blockiness statistic measures the codec, not
the crop phase.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor
from tqdm import tqdm

from ..io import list_images, load_image

GRID = 8


def extract_patches(image: Tensor, size: int, count: int, generator: torch.Generator) -> Tensor:
    """Up to ``count`` distinct (3, size, size) patches of a (3, H, W) image at random 8-px-grid origins.

    Returns (n, 3, size, size) with n = min(count, number of grid origins); n = 0 if the image is
    smaller than a patch. The count per image is bounded by ``count`` at any image size (a 512x512 face
    has 3721 grid origins; 64 are drawn by default), and only the drawn patches are copied, so the cost
    follows ``count``, not the image size.
    """
    _, height, width = image.shape
    if height < size or width < size:
        return image.new_zeros(0, 3, size, size)
    ny = (height - size) // GRID + 1
    nx = (width - size) // GRID + 1
    pick = torch.randperm(ny * nx, generator=generator)[:count]  # row-major origin numbers, as before
    ys, xs = (pick // nx * GRID).tolist(), (pick % nx * GRID).tolist()
    return torch.stack([image[:, y:y + size, x:x + size] for y, x in zip(ys, xs)]).contiguous()


def folder_patches(folder: str | os.PathLike, size: int = 32, per_image: int = 64, seed: int = 0,
                   max_images: int | None = None, progress: bool = False) -> tuple[Tensor, list[str]]:
    """Patches from every readable image under ``folder`` and the list of files skipped (with reasons).

    Patch positions are drawn from a generator seeded by (seed, image index), so the same folder
    and seed always give the same patches. ``progress`` draws a bar over the images on stderr.
    """
    paths = list_images(folder)
    if max_images is not None:
        paths = paths[:max_images]
    if not paths:
        raise ValueError(f"no image files under {folder}")
    chunks: list[Tensor] = []
    skipped: list[str] = []
    for index, path in enumerate(tqdm(paths, desc=f"patches {Path(folder).name}", unit="image", disable=not progress,
                                      dynamic_ncols=True, leave=False)):
        try:
            image = load_image(path)
        except ValueError as err:
            skipped.append(str(err))
            continue
        generator = torch.Generator().manual_seed(seed * 1_000_003 + index)
        patches = extract_patches(image, size, per_image, generator)
        if patches.shape[0] == 0:
            skipped.append(f"{Path(path).name}: smaller than a {size}x{size} patch")
            continue
        chunks.append(patches)
    if not chunks:
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        raise ValueError(f"no usable images under {folder} (need at least {size}x{size} px): "
                         f"{'; '.join(skipped[:3])}{more}")
    return torch.cat(chunks), skipped
