"""Which device a process uses, written once: ``cuda:LOCAL_RANK`` under torchrun, the named one otherwise; and the
process's rank and world size.

Under torchrun each rank wraps its own (DistributedSampler) loader in a PairStream; seeds depend only on (seed,
epoch, key), so every rank synthesises exactly the LQ a single process would for the same keys, on its own
device, and all ranks may share one PairCache folder.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def local_rank() -> int:
    """This process's GPU index on its machine: ``LOCAL_RANK`` as torchrun sets it, 0 when unset."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def default_device() -> torch.device:
    """``cuda:LOCAL_RANK`` when CUDA is available, else CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank())
    return torch.device("cpu")


def resolve_device(device: str | torch.device | None, option: str = "--device") -> torch.device:
    """None or 'auto': ``default_device()``; otherwise the named device, which must exist on this machine.

    A malformed name or a CUDA device without CUDA is a ValueError naming ``option``.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return default_device()
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"{option}: {err}") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{option} {device}: CUDA is not available on this machine (use {option} cpu)")
    return check_device(chosen, option)


def check_device(device: torch.device, name: str = "device") -> torch.device:
    """``device`` if this machine has it: a CUDA index below the device count, and a device that can hold a
    tensor (probed with an empty one); ``meta`` (shapes only, no data) is refused. ValueError naming ``name``."""
    if device.type == "meta":
        raise ValueError(f"{name} {str(device)!r}: a meta device holds no data; pairs need a real device (cpu, cuda)")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{name} {str(device)!r}: CUDA is not available on this machine")
        if device.index is not None and device.index >= count:
            raise ValueError(f"{name} {str(device)!r}: this machine has {count} CUDA device(s), "
                             f"cuda:0 to cuda:{count - 1}")
    try:
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError, ValueError) as err:
        raise ValueError(f"{name} {str(device)!r} is not usable on this machine: "
                         f"{' '.join(str(err).split())[:200]}") from None
    return device


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of the initialised process group, else (0, 1)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
