"""Synthetic camera pairs with a known kernel, colour map and Poisson-Gaussian noise, for the fit-camera tests."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from degrade_stream.core.quantize import quantize8
from degrade_stream.degrade.resize import resize
from degrade_stream.fit.colour import apply_colour
from degrade_stream.fit.kernel import apply_kernels
from degrade_stream.io import list_images, load_image, save_image

DATA = Path(__file__).parent / "data"
#: the known noise: var = A mu + B in every channel, white and independent between channels
NOISE_A, NOISE_B = 2e-4, 4e-5
COLOUR = torch.tensor([[0.95, 0.05, 0.0, 0.01], [0.0, 1.0, 0.02, -0.01], [0.02, 0.0, 0.9, 0.02]])


def gaussian(size: int, sigma: float) -> torch.Tensor:
    c = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(c[:, None] ** 2 + c[None] ** 2) / (2 * sigma ** 2))
    return (g / g.sum()).float()


def sharpened_kernel(size: int = 11, blur: float = 1.2, radius: float = 2.5, amount: float = 0.6) -> torch.Tensor:
    """A blur with unsharp-mask lobes: (1 + amount) G(blur) - amount G(radius); sums to 1, has negative taps."""
    return (1 + amount) * gaussian(size, blur) - amount * gaussian(size, radius)


def hq_images() -> list[torch.Tensor]:
    return [load_image(p) for p in list_images(DATA / "hq") if "set5" in p.name]


def degrade(hq: torch.Tensor, kernel: torch.Tensor, seed: int, scale: int = 1, noise: bool = True) -> torch.Tensor:
    """The known camera: [bicubic to 1/scale] -> colour -> kernel -> noise sqrt(A mu + B) -> 8 bit."""
    x = hq[None]
    if scale > 1:
        x = resize(x, (hq.shape[1] // scale, hq.shape[2] // scale), "bicubic")
    x = apply_kernels(apply_colour(x, COLOUR[None]), kernel.expand(1, 3, *kernel.shape))
    if noise:
        g = torch.Generator().manual_seed(seed)
        std = (NOISE_A * x.clamp(0, 1) + NOISE_B).sqrt()
        x = x + std * torch.randn(x.shape, generator=g)
    return quantize8(x)[0]


def write_pairs(folder: Path, kernel: torch.Tensor, scale: int = 1, noise: bool = True) -> Path:
    """folder/gt/NAME.png + folder/lq/NAME.png for the Set5 test images; returns folder."""
    for i, hq in enumerate(hq_images()):
        h, w = (hq.shape[1] // (2 * scale)) * 2 * scale, (hq.shape[2] // (2 * scale)) * 2 * scale
        hq = hq[:, :h, :w]
        save_image(hq, folder / "gt" / f"p{i}.png")
        save_image(degrade(hq, kernel, seed=i, scale=scale, noise=noise), folder / "lq" / f"p{i}.png")
    return folder


def shift_image(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` moved by (dy, dx) px, edges replicated."""
    pad = max(abs(dy), abs(dx))
    padded = F.pad(image[None], (pad, pad, pad, pad), mode="replicate")[0]
    h, w = image.shape[1:]
    return padded[:, pad - dy:pad - dy + h, pad - dx:pad - dx + w]
