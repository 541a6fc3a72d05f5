"""Small datasets and a loader factory shared by the stream tests (importable in subprocesses)."""
from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from degrade_stream.io import list_images, load_image

DATA = Path(__file__).parent / "data"


class HQCrops(Dataset):
    """Fixed 32x32 crops of the HQ test images, with their file name + offset as the key."""

    def __init__(self, size: int = 32, per_image: int = 2) -> None:
        self.items = []
        for path in list_images(DATA / "hq"):
            image = load_image(path)
            for j in range(per_image):
                y = x = 40 * j
                self.items.append((f"{path.name}@{y},{x}", image[:, y:y + size, x:x + size].clone()))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        key, image = self.items[i]
        return {"gt": image, "key": key}


def collect(stream, epochs=(0,)) -> dict:
    """{(epoch, key): lq} over whole epochs of a PairStream."""
    out = {}
    for epoch in epochs:
        stream.set_epoch(epoch)
        for batch in stream:
            for key, lq in zip(batch["key"], batch["lq"]):
                out[(epoch, key)] = lq.clone()
    return out


def loader(dataset, batch_size: int = 4, shuffle: bool = False, seed: int = 0) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)
