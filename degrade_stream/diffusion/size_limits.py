"""Upper bounds on every size of a DDPM: the UNet's architecture, the schedule, training crops and batches, and
what the machine can hold (issue 23 item 10: absurd configs once tried to allocate 12 GB to 17 TB).

Fixed bounds (below) refuse what no model of this project needs; ``check_unet_config`` applies them to a
UNetConfig with errors naming the ``model.*`` key. ``parameter_count`` builds the network on the ``meta``
device (shapes only, no memory), so the size of an architecture is known before anything is allocated;
``check_training_fits`` compares a run's lower-bound memory need with the machine's memory, and
``check_loadable`` a weights file's with it, each naming the keys or the file.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import torch

from ..core.checks import check_int, check_number
from ..core.errors import ConfigError, short_repr

if TYPE_CHECKING:
    from .train_config import TrainConfig
    from .unet import UNetConfig

MAX_CHANNELS = 8192       # widest level (the release UNet: 512; Stable Diffusion's: 1280)
MAX_LEVELS = 8            # resolution levels (channels entries); the stride is 2 ** (levels - 1)
MAX_LAYERS = 32           # residual blocks per level
MAX_IO_CHANNELS = 64      # in_channels, out_channels
MAX_TIME_DIM = 4 * MAX_CHANNELS
MAX_TIMESTEPS = 100_000   # schedule length T (diffusers' models: 1000)
MAX_CROP = 4096           # training crop side
MAX_WORKING_SIZE = 8192   # the shorter side a model works at
MAX_BATCH = 4096          # training batch per process
GIB = 1 << 30


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def check_unet_config(config: "UNetConfig", path: str = "model") -> None:
    """Types and bounds of every UNet setting, and their relations; ConfigError naming ``path.key``."""
    channels = config.channels
    if not isinstance(channels, tuple) or not 1 <= len(channels) <= MAX_LEVELS:
        raise ConfigError(f"{path}.channels", f"expected a list of 1 to {MAX_LEVELS} widths, got {short_repr(channels)}")
    groups = check_int(f"{path}.norm_groups", config.norm_groups, low=1, high=MAX_CHANNELS)
    for i, c in enumerate(channels):
        check_int(f"{path}.channels[{i}]", c, low=1, high=MAX_CHANNELS)
        if c % groups:
            raise ConfigError(f"{path}.channels[{i}]", f"{c} is not divisible by {path}.norm_groups={groups}")
    for key in ("down_attention", "up_attention"):
        flags = getattr(config, key)
        if flags is None and key == "up_attention":
            continue
        if not isinstance(flags, tuple) or len(flags) != len(channels) or not all(isinstance(f, bool) for f in flags):
            raise ConfigError(f"{path}.{key}", f"expected {len(channels)} values, true/false (one per level of channels "
                                               f"{list(channels)}), got {short_repr(flags)}")
    if not isinstance(config.mid_attention, bool) or not isinstance(config.flip_sin_to_cos, bool):
        raise ConfigError(f"{path}.mid_attention", "mid_attention and flip_sin_to_cos must be true/false")
    check_int(f"{path}.layers_per_block", config.layers_per_block, low=1, high=MAX_LAYERS)
    if config.head_dim is not None:
        head = check_int(f"{path}.head_dim", config.head_dim, low=1, high=MAX_CHANNELS)
        attended = [c for c, a in zip(channels, config.down_attention + config.up_attention_resolved) if a]
        attended += [channels[-1]] if config.mid_attention else []
        for c in attended:
            if c % head:
                raise ConfigError(f"{path}.head_dim", f"{head} does not divide the {c} channels of an attention level")
    check_number(f"{path}.norm_eps", config.norm_eps, 1e-12, 1.0)
    check_number(f"{path}.dropout", config.dropout, 0.0, 1.0)
    check_int(f"{path}.in_channels", config.in_channels, low=1, high=MAX_IO_CHANNELS)
    check_int(f"{path}.out_channels", config.out_channels, low=1, high=MAX_IO_CHANNELS)
    if config.time_dim is not None:
        check_int(f"{path}.time_dim", config.time_dim, low=1, high=MAX_TIME_DIM)
    check_number(f"{path}.freq_shift", config.freq_shift, -1e3, 1e3)


def parameter_shapes(config: "UNetConfig") -> dict[str, tuple[int, ...]]:
    """Name -> shape of every weight of the UNet of ``config``, from a network built on the meta device."""
    from .unet import UNet

    with torch.device("meta"):
        model = UNet(config)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def parameter_count(config: "UNetConfig") -> int:
    """The number of weights of the UNet of ``config`` (nothing is allocated)."""
    total = 0
    for shape in parameter_shapes(config).values():
        n = 1
        for s in shape:
            n *= s
        total += n
    return total


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
