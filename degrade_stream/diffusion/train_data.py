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
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from ..core.random import derive_seeds
from ..io import IMAGE_EXTENSIONS, list_images, load_image
from .working_size import resize_shorter_side  # shared with ddpm_refine (the same resize at refinement)

log = logging.getLogger(__name__)


@dataclass
class ImageScan:
    """The usable images of a folder and the skipped ones with the reason."""

    usable: list[Path]
    skipped: list[tuple[Path, str]]
    padded: list[Path]  # usable, but smaller than the crop: reflect-padded when cropped


def _source_files(source: str | os.PathLike) -> list[Path]:
    """Image files of one training source: a folder (recursive), one image file, or a ``.txt`` list of
    image paths (one per line, relative to the list's folder; ``#`` starts a comment)."""
    path = Path(source)
    if path.is_dir():
        return list_images(path)
    if not path.exists():
        raise FileNotFoundError(f"--lq: {path} does not exist")
    if path.suffix.lower() == ".txt":
        files = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            entry = line.split("#", 1)[0].strip()
            if not entry:
                continue
            item = Path(entry) if Path(entry).is_absolute() else path.parent / entry
            if not item.is_file():
                raise FileNotFoundError(f"{path}:{number}: listed image {item} does not exist")
            files.append(item)
        return files
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return [path]
    raise ValueError(f"--lq: {path} is neither a folder, an image file nor a .txt list of images")


def scan_images(folder: str | os.PathLike | Sequence[str | os.PathLike], crop: int,
                small_images: str = "pad") -> ImageScan:
    """Find the image files of one or several sources (see ``_source_files``) and check their headers;
    zero usable is an error. A file listed twice is used once."""
    sources = [folder] if isinstance(folder, (str, os.PathLike)) else list(folder)
    if not sources:
        raise ValueError("--lq: no training source given")
    files = list(dict.fromkeys(f for source in sources for f in _source_files(source)))
    folder = ", ".join(str(s) for s in sources)
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
                         f"{', '.join(IMAGE_EXTENSIONS)}, recursively){reason}")
    return ImageScan(usable, skipped, padded)


def check_decodable(scan: ImageScan, source: str) -> None:
    """Decode images in the main process until one works, so a folder whose every image is corrupt
    fails here, naming it, instead of deep inside a DataLoader worker. Failures are moved to skipped."""
    for path in list(scan.usable):
        try:
            _cached_image.__wrapped__(str(path))
            return
        except (ValueError, OSError) as err:
            scan.usable.remove(path)
            scan.skipped.append((path, str(err)))
    shown = "; ".join(f"{p.name} ({r})" for p, r in scan.skipped[:5])
    raise ValueError(f"--lq {source}: none of the {len(scan.skipped)} image files could be decoded: {shown}")


@functools.lru_cache(maxsize=128)
def _cached_image(path: str) -> Tensor:
    """Decoded images are kept per worker process (a small LRU), so small folders decode once."""
    return load_image(path)


@functools.lru_cache(maxsize=128)
def _cached_working_image(path: str, size: int) -> Tensor:
    """A decoded image at its working resolution, kept per worker process like ``_cached_image``."""
    return resize_shorter_side(_cached_image(path), size)


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


AUGMENTS = ("none", "hflip", "dihedral")


def crop_offset(g: torch.Generator, extent: int, crop: int, grid: int) -> int:
    """A random crop start in [0, extent - crop] that is a multiple of ``grid`` (1: any offset).

    With ``grid=8`` the crop keeps the 8x8 JPEG block grid of an image, which starts at the image
    origin, at the same phase in every crop (so the model can learn where the blocks are)."""
    positions = (extent - crop) // grid + 1
    return int(torch.randint(positions, (1,), generator=g)) * grid


def augment_crop(out: Tensor, g: torch.Generator, augment: str) -> Tensor:
    """``hflip``: horizontal flip with p 1/2; ``dihedral``: one of the 8 flips / 90-degree rotations.
    Both map a crop whose side is a multiple of 8 onto the same 8x8 block grid."""
    if augment == "hflip":
        return out.flip(-1) if bool(torch.rand((), generator=g) < 0.5) else out
    if augment == "dihedral":
        k = int(torch.randint(8, (1,), generator=g))
        out = torch.rot90(out, k % 4, dims=(-2, -1))
        return out.flip(-1) if k >= 4 else out
    return out


class RandomCrops(Dataset):
    """Item ``n`` is the n-th training crop (3, crop, crop) in [0, 1], drawn from (seed, n)."""

    def __init__(self, files: list[Path], crop: int, seed: int, grid: int = 1, augment: str = "hflip",
                 working_size: int | None = None) -> None:
        if not files:
            raise ValueError("RandomCrops needs at least one image file")
        if augment not in AUGMENTS:
            raise ValueError(f"augment: expected one of {AUGMENTS}, got {augment!r}")
        self.files = [str(f) for f in files]
        self.crop = crop
        self.seed = seed
        self.grid = grid
        self.augment = augment
        self.working_size = working_size
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
                image = _cached_image(path) if self.working_size is None else _cached_working_image(path, self.working_size)
                break
            except (ValueError, OSError) as err:
                if path not in self.failed:
                    self.failed.add(path)
                    log.warning("skipping unreadable training image %s: %s", path, err)
        else:
            raise ValueError(f"every training image failed to decode ({len(self.files)} files, e.g. {self.files[0]})")
        image = pad_to(image, self.crop)
        _, h, w = image.shape
        y = crop_offset(g, h, self.crop, self.grid)
        x = crop_offset(g, w, self.crop, self.grid)
        out = augment_crop(image[:, y:y + self.crop, x:x + self.crop], g, self.augment)
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
