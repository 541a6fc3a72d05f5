"""Overlapping patches at random 8-px-grid origins: the common random numbers of ``calibrate``.

Used where real and synthetic patches sit at the same positions of the same content (calibration
crops), so overlap cannot leak content between the two sides. Every two-sample comparison uses the
non-overlapping, grouped patches of image_patches.py instead.

JPEG's 8x8 block grid starts at the image origin (ITU-T T.81, sec. A.2), so the 8-px alignment keeps the
block boundaries at the same place in every patch, and the blockiness statistic measures the codec, not
the crop phase.
"""
from __future__ import annotations

import torch
from torch import Tensor

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
