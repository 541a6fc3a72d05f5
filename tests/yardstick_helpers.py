"""Small synthetic scenes and degradations for the realism yardstick tests (issue 20)."""
from __future__ import annotations

import math

import kornia
import torch
from torch import Tensor


def scene(index: int, size: int = 96) -> Tensor:
    """A (3, size, size) image with content of its own: a sinusoid grating of an image-specific frequency and
    orientation, smooth colour blobs and a little texture."""
    g = torch.Generator().manual_seed(1000 + index)
    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                            indexing="ij")
    angle = float(torch.rand(1, generator=g)) * math.pi
    period = 3.0 + 9.0 * float(torch.rand(1, generator=g))
    grating = 0.5 + 0.25 * torch.sin(2 * math.pi * (xx * math.cos(angle) + yy * math.sin(angle)) / period)
    blobs = kornia.filters.gaussian_blur2d(torch.rand(1, 3, size, size, generator=g), (31, 31), (8.0, 8.0))[0]
    blobs = (blobs - blobs.mean()) / blobs.std().clamp(min=1e-6) * 0.08
    return (grating[None] + blobs).clamp(0, 1)


def degrade(image: Tensor, seed: int, noise: float = 0.02, blur: float = 1.0) -> Tensor:
    """Gaussian blur then Gaussian noise, quantised to 8 bits; seeded."""
    g = torch.Generator().manual_seed(seed)
    x = kornia.filters.gaussian_blur2d(image[None], (7, 7), (blur, blur), border_type="reflect")[0]
    x = x + noise * torch.randn(x.shape, generator=g)
    return (x.clamp(0, 1) * 255).round() / 255


def named(images: list[Tensor], prefix: str) -> list[tuple[str, Tensor]]:
    return [(f"{prefix}{i:03d}", im) for i, im in enumerate(images)]
