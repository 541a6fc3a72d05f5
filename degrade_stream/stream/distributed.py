"""Multi-GPU helpers: which device a rank uses, and its rank/world size.

Under torchrun each rank wraps its own (DistributedSampler) loader in a PairStream; seeds depend
only on (seed, epoch, key), so every rank synthesises exactly the LQ a single process would for
the same keys, on its own device, and all ranks may share one PairCache folder.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of the initialised process group, else (0, 1)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def default_device() -> torch.device:
    """``cuda:LOCAL_RANK`` when CUDA is available (LOCAL_RANK from torchrun, default 0), else CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")
