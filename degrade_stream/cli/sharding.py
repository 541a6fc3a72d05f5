"""Which share of the work this process does: ``--shard I/N`` or, under torchrun, RANK/WORLD_SIZE."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Shard:
    """Process ``index`` of ``count``; ``group`` is True when a torch.distributed group links them."""

    index: int = 0
    count: int = 1
    group: bool = False

    def owns(self, position: int) -> bool:
        """Whether work item ``position`` (round-robin) belongs to this shard."""
        return position % self.count == self.index

    @property
    def is_main(self) -> bool:
        return self.index == 0


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N."""
    try:
        index_text, count_text = text.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise ValueError(f"--shard: expected I/N (e.g. 0/4), got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard: expected I/N with 0 <= I < N, got {text!r}")
    return index, count


def resolve_shard(text: str | None) -> Shard:
    """The shard from ``--shard``, else from torchrun's environment (joining a gloo group), else 0/1."""
    if text:
        return Shard(*parse_shard(text))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Shard()
    rank = int(os.environ.get("RANK", "0"))
    if dist.is_available() and "MASTER_ADDR" in os.environ:
        if not dist.is_initialized():
            dist.init_process_group("gloo")  # only for a barrier and summing counts: CPU is enough
        return Shard(dist.get_rank(), dist.get_world_size(), group=True)
    return Shard(rank, world)


def barrier(shard: Shard) -> None:
    """Wait for every rank (no-op without a process group)."""
    if shard.group:
        dist.barrier()


def sum_over_shards(shard: Shard, values: list[int]) -> list[int]:
    """Element-wise sum of integer counters over every rank (identity without a process group)."""
    if not shard.group:
        return values
    tensor = torch.tensor(values, dtype=torch.int64)
    dist.all_reduce(tensor)
    return [int(v) for v in tensor.tolist()]


def close(shard: Shard) -> None:
    """Leave the process group this module joined."""
    if shard.group and dist.is_initialized():
        dist.destroy_process_group()
