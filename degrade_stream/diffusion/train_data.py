"""Training crops from a folder of real LQ images.

Every crop is a pure function of (seed, global sample number): which image, where, and whether it
is flipped are drawn from a generator seeded by that pair. So a resumed run sees exactly the samples
an uninterrupted run would, on any number of DataLoader workers, and under DDP each rank draws its
own disjoint part of the sample numbers (its shard of the stream).
"""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from ..core.random import derive_seeds
from ..io import list_images, load_image

log = logging.getLogger(__name__)


@dataclass
class ImageScan:
    """The usable images of a folder and the skipped ones with the reason."""

    usable: list[Path]
    skipped: list[tuple[Path, str]]
    padded: list[Path]  # usable, but smaller than the crop: reflect-padded when cropped


def scan_images(folder: str | os.PathLike, crop: int, small_images: str = "pad") -> ImageScan:
    """Find image files under ``folder`` (recursive) and check their headers; zero usable is an error."""
    files = list_images(folder)
    usable: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    padded: list[Path] = []
    for path in files:
        try:
            with Image.open(path) as image:
                width, height = image.size
        except Exception as err:  # PIL raises many types for corrupt files
            skipped.append((path, f"unreadable: {type(err).__name__}: {err}"))
            continue
        if min(width, height) < crop:
            if small_images == "skip":
                skipped.append((path, f"{width}x{height} is smaller than the {crop}px crop"))
                continue
            padded.append(path)
        usable.append(path)
    if not usable:
        reason = f"; {len(skipped)} skipped: " + "; ".join(f"{p.name} ({r})" for p, r in skipped[:5]) if skipped else ""
        raise ValueError(f"no usable training images under {folder} (looked for "
                         f"{', '.join(('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif'))}, recursively){reason}")
    return ImageScan(usable, skipped, padded)


@functools.lru_cache(maxsize=128)
def _cached_image(path: str) -> Tensor:
    """Decoded images are kept per worker process (a small LRU), so small folders decode once."""
    return load_image(path)


def pad_to(image: Tensor, size: int) -> Tensor:
    """Reflect-pad (3, H, W) so both sides are at least ``size`` (repeated for very small images)."""
    while image.shape[1] < size or image.shape[2] < size:
        pad_h = min(max(size - image.shape[1], 0), image.shape[1] - 1)
        pad_w = min(max(size - image.shape[2], 0), image.shape[2] - 1)
        if pad_h == 0 and pad_w == 0:  # a 1-pixel side cannot be reflected: replicate instead
            image = F.pad(image[None], (0, max(size - image.shape[2], 0), 0, max(size - image.shape[1], 0)),
                          mode="replicate")[0]
            break
        image = F.pad(image[None], (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), mode="reflect")[0]
    return image


class RandomCrops(Dataset):
    """Item ``n`` is the n-th training crop (3, crop, crop) in [0, 1], drawn from (seed, n)."""

    def __init__(self, files: list[Path], crop: int, seed: int) -> None:
        if not files:
            raise ValueError("RandomCrops needs at least one image file")
        self.files = [str(f) for f in files]
        self.crop = crop
        self.seed = seed
        self.failed: set[str] = set()

    def __len__(self) -> int:
        return 2 ** 62  # an endless stream, indexed by global sample number

    def _generator(self, n: int) -> torch.Generator:
        key = derive_seeds(torch.tensor([self.seed], dtype=torch.int64), n & 0xFFFFFFFF, n >> 32)
        return torch.Generator().manual_seed(int(key[0]))

    def __getitem__(self, n: int) -> Tensor:
        g = self._generator(int(n))
        first = int(torch.randint(len(self.files), (1,), generator=g))
        for k in range(len(self.files)):  # an image that fails to decode: take the next one
            path = self.files[(first + k) % len(self.files)]
            try:
                image = _cached_image(path)
                break
            except (ValueError, OSError) as err:
                if path not in self.failed:
                    self.failed.add(path)
                    log.warning("skipping unreadable training image %s: %s", path, err)
        else:
            raise ValueError("every training image failed to decode")
        image = pad_to(image, self.crop)
        _, h, w = image.shape
        y = int(torch.randint(h - self.crop + 1, (1,), generator=g))
        x = int(torch.randint(w - self.crop + 1, (1,), generator=g))
        out = image[:, y:y + self.crop, x:x + self.crop]
        if bool(torch.rand((), generator=g) < 0.5):
            out = out.flip(-1)
        return out.contiguous()


class StepSampler(Sampler[int]):
    """Global sample numbers for steps [start, stop) of one rank: step s, rank r, slot j ->
    (s * world + r) * batch + j. Every rank gets a disjoint shard; a resumed run continues exactly."""

    def __init__(self, start: int, stop: int, batch_size: int, rank: int = 0, world: int = 1) -> None:
        self.start, self.stop, self.batch_size, self.rank, self.world = start, stop, batch_size, rank, world

    def __iter__(self) -> Iterator[int]:
        for step in range(self.start, self.stop):
            base = (step * self.world + self.rank) * self.batch_size
            yield from range(base, base + self.batch_size)

    def __len__(self) -> int:
        return max(self.stop - self.start, 0) * self.batch_size
