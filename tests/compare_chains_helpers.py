"""Tiny real-pair folders for the compare-chains tests: blocky HQ images and Gaussian-blurred LQ."""
from __future__ import annotations

from pathlib import Path

import kornia
import torch
from torch import Tensor

from degrade_stream.io import save_image

BLUR_SIGMA = 1.5
GAUSSIAN_BLUR_CHAIN = f"""name: gauss
stages:
  - type: blur
    kernel_range: [9, 9]
    kernel_prob: [1, 0, 0, 0, 0, 0]
    sinc_prob: 0.0
    blur_sigma: [{BLUR_SIGMA}, {BLUR_SIGMA}]
"""


def blocky_image(seed: int, size: int = 48) -> Tensor:
    """A (3, size, size) image of random 4-px colour blocks: sharp edges that a blur visibly removes."""
    g = torch.Generator().manual_seed(seed)
    blocks = torch.rand(3, size // 4, size // 4, generator=g)
    return blocks.repeat_interleave(4, 1).repeat_interleave(4, 2)


def gaussian_blur(image: Tensor) -> Tensor:
    """The LQ of the synthetic task: the HQ blurred by the chain's Gaussian, rounded to 8 bit."""
    out = kornia.filters.gaussian_blur2d(image[None], (9, 9), (BLUR_SIGMA, BLUR_SIGMA), border_type="reflect")[0]
    return (out.clamp(0, 1) * 255).round() / 255


def write_pairs(folder: Path, seeds: range, size: int = 48) -> Path:
    """folder/gt/NNN.png and folder/lq/NNN.png for each seed; returns folder."""
    for seed in seeds:
        hq = blocky_image(seed, size)
        save_image(hq, folder / "gt" / f"{seed:03d}.png")
        save_image(gaussian_blur(hq), folder / "lq" / f"{seed:03d}.png")
    return folder
