"""The seed domain: what every ``seed`` argument of the project accepts, reduced the same way everywhere.

A seed is any integer: a Python int of any size, a numpy integer or a 0-dim integer tensor (``bool`` and
floats are refused). It is reduced modulo 2**64 into the signed int64 range [-2**63, 2**63), the domain of the
per-sample seeds of ``core/random.py``: ``seed`` and ``seed + 2**64`` give identical results, and a seed
already in that range is kept as it is. ``chain(hq, seed=...)``, ``PairStream``, ``PairCache``,
``sample_seeds``, ``synthesize --seed``, the BasicSR/mmagic plugins and ``train-ddpm``'s ``seed`` all apply
this reduction (``canonical_seed``); per-sample seed tensors and lists are reduced element by element
(``seed_tensor``).
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np
import torch
from torch import Tensor

SEED_MODULUS = 1 << 64
_HALF = 1 << 63
_DOMAIN = "an integer (any size: it is reduced modulo 2**64)"


class SeedError(ValueError, TypeError):
    """A value that is not a seed (caught as ValueError or TypeError); the message names the argument."""

    def __init__(self, name: str, problem: str) -> None:
        self.name, self.problem = name, problem
        super().__init__(f"{name} {problem}")


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, (Tensor, np.ndarray)) else f"{type(value).__name__} {value.dtype}"
    return text if len(text) <= 60 else text[:57] + "..."


def reduce_seed(value: int) -> int:
    """``value`` modulo 2**64, as a signed int64 value (two's complement)."""
    return ((int(value) + _HALF) % SEED_MODULUS) - _HALF


def is_per_sample(value: Any) -> bool:
    """True for per-sample seeds (a tensor or array with dimensions, a list or tuple); False for one seed."""
    if isinstance(value, (Tensor, np.ndarray)):
        return value.ndim > 0
    return isinstance(value, (list, tuple))


def canonical_seed(value: Any, name: str = "seed") -> int:
    """One seed reduced into the signed int64 range; a TypeError naming ``name`` for anything but an integer."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise SeedError(name, f"must be {_DOMAIN}, got {_short(value)}")
    if isinstance(value, (Tensor, np.ndarray)):
        if value.ndim != 0 or value.dtype in (torch.bool, np.bool_) or _is_float_dtype(value.dtype):
            raise SeedError(name, f"must be {_DOMAIN} or a 0-dim integer tensor, got {_short(value)}"
                            + (f" of shape {tuple(value.shape)}" if value.ndim else ""))
        if isinstance(value, Tensor) and value.device.type == "meta":
            raise SeedError(name, f"is a meta tensor, which holds no value; pass an int or a CPU/CUDA tensor")
        return reduce_seed(value.item())
    try:
        return reduce_seed(operator.index(value))
    except TypeError:
        raise SeedError(name, f"must be {_DOMAIN}, got {type(value).__name__} {_short(value)}") from None


def seed_tensor(values: Any, name: str = "seed") -> Tensor:
    """Per-sample seeds (a 1-D or higher tensor, array or sequence of integers) as a flat CPU int64 tensor,
    each reduced as ``canonical_seed`` does; errors name ``name``."""
    if isinstance(values, Tensor):
        if values.dtype == torch.bool or values.dtype.is_floating_point or values.dtype.is_complex:
            raise SeedError(name, f"tensor must hold integers, got dtype {values.dtype}")
        if values.device.type == "meta":
            raise SeedError(name, f"is a meta tensor, which holds no values; pass a CPU or CUDA tensor")
        if values.dtype == torch.int64:
            return values.detach().to("cpu").reshape(-1)
        return torch.tensor([reduce_seed(v) for v in values.detach().to("cpu").reshape(-1).tolist()], dtype=torch.int64)
    if isinstance(values, np.ndarray):
        if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.integer):
            raise SeedError(name, f"array must hold integers, got dtype {values.dtype}")
        return torch.tensor([reduce_seed(v) for v in values.reshape(-1).tolist()], dtype=torch.int64)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise SeedError(name, f"must be {_DOMAIN} or a (B,) integer tensor, got {type(values).__name__} "
                        f"{_short(values)}")
    return torch.tensor([canonical_seed(v, f"{name}[{i}]") for i, v in enumerate(values)], dtype=torch.int64)


def _is_float_dtype(dtype: Any) -> bool:
    if isinstance(dtype, torch.dtype):
        return dtype.is_floating_point or dtype.is_complex
    return not np.issubdtype(dtype, np.integer)
