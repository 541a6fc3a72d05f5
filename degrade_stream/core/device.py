"""Which device a process uses, written once: ``cuda:LOCAL_RANK`` under torchrun, the named one otherwise."""
from __future__ import annotations

import os

import torch


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
    except RuntimeError as err:
        raise ValueError(f"{option}: {err}") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{option} {device}: CUDA is not available on this machine (use {option} cpu)")
    return chosen
