"""Multi-GPU helpers: which device a rank uses, and its rank/world size.

Under torchrun each rank wraps its own (DistributedSampler) loader in a PairStream; seeds depend
only on (seed, epoch, key), so every rank synthesises exactly the LQ a single process would for
the same keys, on its own device, and all ranks may share one PairCache folder.
"""
from __future__ import annotations

import torch.distributed as dist

from ..core.device import default_device  # noqa: F401  (the device a rank uses; PairStream's default)


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of the initialised process group, else (0, 1)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
