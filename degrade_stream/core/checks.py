"""Checks at the boundary: the arguments of every transform (each raises ConfigError naming the argument) and the
image batch a chain is given (``check_image_batch``: a wrong batch fails loudly instead of making a silent bad
pair).

Every number has finite bounds: an argument whose check names no bound of its own is held to
[-LIMIT, LIMIT] (issue 23 item 5: ``blur_sigma: [1e308, 1e308]`` once loaded and made a NaN LQ). Errors
show a short view of the bad value (``errors.short_repr``).
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import torch
from torch import Tensor

from .errors import ConfigError, closest, short_repr

#: The bound of any number whose check names none: no configurable number of the project is larger.
LIMIT = 1e6


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(name: str, value: Any, low: float | None = None, high: float | None = None) -> float:
    """A finite real number within [low, high] (NaN and infinities are refused: NaN passes every ``<``)."""
    if not _is_number(value):
        raise ConfigError(name, f"expected a number, got {type(value).__name__} {short_repr(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        finite = False
    if not finite:
        raise ConfigError(name, f"expected a finite number, got {short_repr(value)}")
    value = float(value)
    _check_limits(name, value, low, high)
    return value


def _check_limits(name: str, value: Any, low: float | None, high: float | None) -> None:
    """``low <= value <= high``; a missing bound is the project-wide one, -LIMIT or LIMIT."""
    why = " (the bound of any number without a narrower one)"
    if value < (-LIMIT if low is None else low):
        bound = f"-{LIMIT:g}{why}" if low is None else low
        raise ConfigError(name, f"must be >= {bound}, got {short_repr(value)}")
    if value > (LIMIT if high is None else high):
        bound = f"{LIMIT:g}{why}" if high is None else high
        raise ConfigError(name, f"must be <= {bound}, got {short_repr(value)}")


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """An integer within [low, high]."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ConfigError(name, f"expected an integer, got {type(value).__name__} {short_repr(value)}")
    _check_limits(name, value, low, high)
    return int(value)


def check_prob(name: str, value: Any) -> float:
    """A probability in [0, 1] (NaN fails the comparison and is refused too)."""
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(name, f"probability must be a number in [0, 1], got {short_repr(value)}")
    return float(value)


def check_positive(name: str, value: Any, strict: bool = False) -> float:
    """A non-negative (or, with ``strict``, positive) number."""
    v = check_number(name, value)
    if v < 0 or (strict and v == 0):
        raise ConfigError(name, f"must be {'> 0' if strict else '>= 0'}, got {short_repr(value)}")
    return v


def check_range(name: str, value: Any, low: float | None = None, high: float | None = None,
                integer: bool = False) -> tuple[float, float]:
    """A [low, high] pair with low <= high, both inside the allowed bounds."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(name, f"expected a [low, high] pair, got {short_repr(value)}")
    check = check_int if integer else check_number
    a = check(f"{name}[0]", value[0], low, high)
    b = check(f"{name}[1]", value[1], low, high)
    if a > b:
        raise ConfigError(name, f"range low > high: [{short_repr(value[0])}, {short_repr(value[1])}]")
    return (a, b)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of ``choices``; suggests the closest on a typo."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(name, f"unknown value {short_repr(value)}; expected one of {list(choices)}"
                                f"{closest(short_repr(value), choices)}")
    return value


def check_probs(name: str, value: Any, length: int | None = None) -> tuple[float, ...]:
    """A list of non-negative weights that sum to a positive number (normalised by the caller)."""
    if not isinstance(value, (list, tuple)) or (length is not None and len(value) != length):
        want = f"a list of {length} probabilities" if length else "a list of probabilities"
        raise ConfigError(name, f"expected {want}, got {short_repr(value)}")
    out = tuple(check_prob(f"{name}[{i}]", v) for i, v in enumerate(value))
    if sum(out) <= 0:
        raise ConfigError(name, f"probabilities must not all be zero, got {short_repr(value)}")
    return out


def check_image_batch(batch: object, name: str = "hq") -> Tensor:
    """Require a (B, 3, H, W) floating tensor with finite values in [0, 1]; return it."""
    if not isinstance(batch, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, 3, H, W), got {type(batch).__name__}")
    if batch.device.type == "meta":
        raise ValueError(f"{name} is a meta tensor (a shape without values); pass images on the CPU or a GPU")
    if batch.dim() != 4:
        raise ValueError(f"{name} must have shape (B, 3, H, W) (4 dimensions), got shape {tuple(batch.shape)}")
    if batch.shape[1] != 3:
        raise ValueError(f"{name} must have 3 (RGB) channels in dim 1, got shape {tuple(batch.shape)}; "
                         "convert grayscale/RGBA images to RGB first (degrade_stream.io.load_image does)")
    if not batch.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor in [0, 1], got dtype {batch.dtype}; "
                        "divide uint8 images by 255")
    if batch.shape[0] == 0 or batch.shape[2] == 0 or batch.shape[3] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(batch.shape)}")
    bad = ~torch.isfinite(batch)
    if bool(bad.any()):
        raise ValueError(f"{name} contains NaN or Inf values")
    lo, hi = torch.aminmax(batch)
    if float(lo) < -1e-6 or float(hi) > 1 + 1e-6:
        raise ValueError(f"{name} values must be in [0, 1], got range [{float(lo):.4g}, {float(hi):.4g}]; "
                         "divide 8-bit images by 255")
    return batch
