"""Training and held-out crops for the restorers: from a chain (H crops degraded on the fly by PairStream) or
from real pairs (the same crop of H and L), every position drawn from a generator seeded by (seed, step)."""
from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch import Tensor

from ..core.chain import Chain
from ..stream.pair_stream import PairStream
from .train_restorer import CropLoader

#: the held-out set's positions and chain seeds are fixed (not the training seed's), so every seed and row
#: of a comparison is scored on the same held-out crops
VAL_SEED = 987_654


def _positions(images: Sequence[Tensor], count: int, crop: int,
               generator: torch.Generator) -> list[tuple[int, int, int]]:
    out = []
    for _ in range(count):
        i = int(torch.randint(len(images), (1,), generator=generator))
        top = int(torch.randint(images[i].shape[1] - crop + 1, (1,), generator=generator))
        left = int(torch.randint(images[i].shape[2] - crop + 1, (1,), generator=generator))
        out.append((i, top, left))
    return out


def _cut(images: Sequence[Tensor], where: list[tuple[int, int, int]], crop: int) -> Tensor:
    return torch.stack([images[i][:, t:t + crop, l:l + crop] for i, t, l in where])


def pair_batches(hqs: Sequence[Tensor], lqs: Sequence[Tensor], steps: int, batch_size: int, crop: int, seed: int,
                 device: torch.device | str = "cpu") -> Iterator[tuple[Tensor, Tensor]]:
    """``steps`` batches of (L crop, H crop) at the same positions of real pairs."""
    for step in range(steps):
        g = torch.Generator().manual_seed(seed * 1_000_003 + step)
        where = _positions(hqs, batch_size, crop, g)
        yield _cut(lqs, where, crop).to(device), _cut(hqs, where, crop).to(device)


def chain_batches(hqs: Sequence[Tensor], chain: Chain, steps: int, batch_size: int, crop: int, seed: int,
                  device: torch.device | str = "cpu") -> Iterator[tuple[Tensor, Tensor]]:
    """``steps`` batches of (chain(H crop), H crop), streamed by PairStream (the chain runs one batch ahead)."""
    loader = CropLoader(hqs, steps, batch_size, crop, seed)
    with PairStream(loader, chain, device=device, seed=seed, prefetch=1, threads=1) as stream:
        for batch in stream:
            yield batch["lq"], batch["gt"]


def pair_validation(hqs: Sequence[Tensor], lqs: Sequence[Tensor], count: int, crop: int) -> tuple[Tensor, Tensor]:
    """(L crops, H crops) of held-out real pairs at fixed positions."""
    where = _positions(hqs, count, crop, torch.Generator().manual_seed(VAL_SEED))
    return _cut(lqs, where, crop), _cut(hqs, where, crop)


def chain_validation(hqs: Sequence[Tensor], chain: Chain, count: int, crop: int) -> tuple[Tensor, Tensor]:
    """(chain(H crop), H crop) of held-out H at fixed positions with fixed per-crop seeds."""
    where = _positions(hqs, count, crop, torch.Generator().manual_seed(VAL_SEED))
    gt = _cut(hqs, where, crop)
    with torch.no_grad():
        lq = torch.cat([chain(gt[i:i + 16], seed=torch.arange(i, min(i + 16, count), dtype=torch.int64) + VAL_SEED).lq
                        for i in range(0, count, 16)])
    return lq, gt
