"""Train a ResidualRestorer on (HQ crop, chain(HQ crop)) pairs streamed by PairStream.

HQ crops are drawn from in-memory training images with a generator seeded by (seed, step), and each
crop's key is its running index, so a seed gives the same crops, the same LQ and the same weights.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch import Tensor
from tqdm import tqdm

from ..core.chain import Chain
from ..stream.pair_stream import PairStream
from .restorer import ResidualRestorer, build_restorer

LEARNING_RATE = 2e-4


class CropLoader:
    """An iterable of ``steps`` batches {"gt": (B,3,c,c), "index": (B,)} of seeded random HQ crops."""

    def __init__(self, images: Sequence[Tensor], steps: int, batch_size: int, crop: int, seed: int) -> None:
        small = [i for i, im in enumerate(images) if min(im.shape[1:]) < crop]
        if small:
            raise ValueError(f"training HQ image(s) {small[:5]} are smaller than --crop {crop}")
        self.images, self.steps, self.batch_size, self.crop, self.seed = images, steps, batch_size, crop, seed

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[dict[str, Tensor]]:
        c = self.crop
        for step in range(self.steps):
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
            crops = []
            for _ in range(self.batch_size):
                im = self.images[int(torch.randint(len(self.images), (1,), generator=g))]
                top = int(torch.randint(im.shape[1] - c + 1, (1,), generator=g))
                left = int(torch.randint(im.shape[2] - c + 1, (1,), generator=g))
                crops.append(im[:, top:top + c, left:left + c])
            index = torch.arange(step * self.batch_size, (step + 1) * self.batch_size)
            yield {"gt": torch.stack(crops), "index": index}


def train_restorer(images: Sequence[Tensor], chain: Chain, steps: int, seed: int, crop: int = 64,
                   batch_size: int = 16, device: torch.device | str = "cpu", progress: bool = False,
                   desc: str = "restorer") -> ResidualRestorer:
    """A restorer trained with L1 loss and Adam for ``steps`` batches of (chain(H crop) -> H crop)."""
    model = build_restorer(seed).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(steps, 1))
    loader = CropLoader(images, steps, batch_size, crop, seed)
    with PairStream(loader, chain, device=device, seed=seed, prefetch=1, threads=1) as stream:
        for batch in tqdm(stream, total=steps, desc=desc, unit="step", disable=not progress, leave=False,
                          dynamic_ncols=True):
            loss = (model(batch["lq"]) - batch["gt"]).abs().mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
    return model.eval()
