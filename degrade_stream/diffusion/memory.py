"""What the machine can hold: a training run's lower-bound memory need (``check_training_fits``) and a weights
file's (``check_loadable``) against the device's memory, each error naming the keys or the file. The size of an
architecture comes from ``unet.parameter_count`` (built on the ``meta`` device, nothing allocated).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import torch

from .unet import parameter_count

if TYPE_CHECKING:
    from .train_config import TrainConfig

GIB = 1 << 30


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def machine_memory(device: torch.device | str) -> int | None:
    """Bytes of memory of ``device``: the GPU's total, or the machine's physical memory (None if unknown)."""
    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(device.index or 0).total_memory)
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def training_memory(config: "TrainConfig") -> tuple[int, int]:
    """(state, activations) bytes a training step needs at least: float32 weights, gradients, two Adam
    moments and the EMA copy (5 x 4 bytes per weight); the activations kept for the backward pass of the
    highest-resolution level alone (batch x crop^2 x channels[0] x 4 bytes, two tensors per residual block
    on the way down and up): a lower bound, far below the real need."""
    state = 20 * parameter_count(config.model)
    side = config.crop
    blocks = 2 * config.model.layers_per_block + 1
    activations = config.batch_size * side * side * config.model.channels[0] * 4 * 2 * blocks
    return state, activations


def check_training_fits(config: "TrainConfig", device: torch.device | str, source: str = "the recipe") -> None:
    """Refuse a training run whose memory lower bound exceeds ``device``'s memory, naming the keys."""
    total = machine_memory(device)
    if total is None:
        return
    state, activations = training_memory(config)
    if state + activations > total:
        raise ValueError(f"{source}: model (channels {list(config.model.channels)}, layers_per_block "
                         f"{config.model.layers_per_block}), batch_size {config.batch_size} and crop {config.crop} "
                         f"need at least {_gib(state + activations)} to train (weights, gradients, Adam and EMA: "
                         f"{_gib(state)}; activations of one batch: over {_gib(activations)}), but {device} has "
                         f"{_gib(total)}; make the model, the batch or the crop smaller")


def check_loadable(weight_bytes: int, params: int, source: str, device: Any = "cpu") -> None:
    """Refuse a weights file whose tensors and float32 model would not fit in ``device``'s memory."""
    total = machine_memory(device)
    if total is not None and weight_bytes + 4 * params > total:
        raise ValueError(f"{source}: holds {_gib(weight_bytes)} of weights for a {params}-weight model, "
                         f"more than the {_gib(total)} of {device} can load")
