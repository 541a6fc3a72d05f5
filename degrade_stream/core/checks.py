"""Argument checks shared by every transform; each raises ConfigError naming the argument."""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

from .errors import ConfigError, closest


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(name: str, value: Any, low: float | None = None, high: float | None = None) -> float:
    """A finite real number within [low, high] (NaN and infinities are refused: NaN passes every ``<``)."""
    if not _is_number(value):
        raise ConfigError(name, f"expected a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ConfigError(name, f"expected a finite number, got {value}")
    if low is not None and value < low:
        raise ConfigError(name, f"must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(name, f"must be <= {high}, got {value}")
    return float(value)


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """An integer within [low, high]."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ConfigError(name, f"expected an integer, got {type(value).__name__} {value!r}")
    if low is not None and value < low:
        raise ConfigError(name, f"must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(name, f"must be <= {high}, got {value}")
    return int(value)


def check_prob(name: str, value: Any) -> float:
    """A probability in [0, 1] (NaN fails the comparison and is refused too)."""
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(name, f"probability must be a number in [0, 1], got {value!r}")
    return float(value)


def check_positive(name: str, value: Any, strict: bool = False) -> float:
    """A non-negative (or, with ``strict``, positive) number."""
    v = check_number(name, value)
    if v < 0 or (strict and v == 0):
        raise ConfigError(name, f"must be {'> 0' if strict else '>= 0'}, got {value}")
    return v


def check_range(name: str, value: Any, low: float | None = None, high: float | None = None,
                integer: bool = False) -> tuple[float, float]:
    """A [low, high] pair with low <= high, both inside the allowed bounds."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(name, f"expected a [low, high] pair, got {value!r}")
    check = check_int if integer else check_number
    a = check(f"{name}[0]", value[0], low, high)
    b = check(f"{name}[1]", value[1], low, high)
    if a > b:
        raise ConfigError(name, f"range low > high: [{value[0]}, {value[1]}]")
    return (a, b)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of ``choices``; suggests the closest on a typo."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(name, f"unknown value {value!r}; expected one of {list(choices)}{closest(str(value), choices)}")
    return value


def check_probs(name: str, value: Any, length: int | None = None) -> tuple[float, ...]:
    """A list of non-negative weights that sum to a positive number (normalised by the caller)."""
    if not isinstance(value, (list, tuple)) or (length is not None and len(value) != length):
        want = f"a list of {length} probabilities" if length else "a list of probabilities"
        raise ConfigError(name, f"expected {want}, got {value!r}")
    out = tuple(check_prob(f"{name}[{i}]", v) for i, v in enumerate(value))
    if sum(out) <= 0:
        raise ConfigError(name, f"probabilities must not all be zero, got {value!r}")
    return out
