"""The search space of ``calibrate``: every numeric argument of a chain's stages, mapped to [0, 1].

Which arguments are tunable, and within what, follows how the stages validate them (core/checks.py
through each stage's ``__init__``): a probability stays in [0, 1]; a probability list (``kernel_prob``,
``resize_prob``...) is a set of weights in [0, 1], written normalised to sum 1; a ``[low, high]``
range keeps low <= high (two coordinates, sorted on decoding) inside the stage's valid bounds; a
kernel-size range stays odd integers in [3, 21]. Where a stage's check is open-ended (noise levels
are only ``>= 0``), the search stops at a practical cap, widened to include the chain's own value.
The structure (``scale``, ``resize_back``, flags, modes, checkpoints) is never tuned: it fixes the
output size and what the user asked for. A plugin argument without a rule here stays fixed.
Every decoded candidate is rebuilt through ``chain_from_dict``, so the stages' own checks have the
final word.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..core.chain import Chain
from ..core.config import chain_from_dict
from ..core.errors import closest

#: base argument name (a trailing "2" of the second order stripped) -> (kind, low, high)
RANGE_RULES: dict[str, tuple[str, float, float]] = {
    "jpeg_range": ("range", 1.0, 100.0),          # checked in [1, 100]
    "noise_range": ("range", 0.0, 50.0),          # checked >= 0; sigma in 8-bit levels
    "poisson_scale_range": ("range", 0.0, 5.0),   # checked >= 0
    "blur_sigma": ("range", 0.1, 5.0),            # checked >= 1e-3
    "betag_range": ("range", 0.1, 8.0),           # checked >= 1e-3
    "betap_range": ("range", 0.1, 4.0),           # checked >= 1e-3
    "resize_range": ("range", 0.1, 2.0),          # checked in [0.01, 16]; wider factors only cost time
    "kernel_range": ("odd_range", 3.0, 21.0),     # odd sizes, at most KERNEL_PAD = 21
    "weight": ("number", 0.0, 2.0),               # usm: checked >= 0
    "threshold": ("number", 0.0, 50.0),           # usm: checked >= 0, in 8-bit levels
    "noise_gain_range": ("range", 0.0, 4.0),      # camera: multiplies the fitted noise std; checked in [0, 100]
    "detail_gain_range": ("range", 0.0, 4.0),     # camera: multiplies the fitted detail residual's std; idem
}
FLOAT_DIGITS = 3  # decoded values are rounded, so the written YAML reproduces the scored candidate
PROB_DIGITS = 4


@dataclass(frozen=True)
class Knob:
    """One tunable argument: stage index, argument name, kind, bounds, and how many coordinates."""

    stage: int
    name: str
    kind: str  # "range", "odd_range", "number", "prob", "probs"
    low: float
    high: float
    size: int

    @property
    def label(self) -> str:
        return f"stages[{self.stage}].{self.name}"


def _base(name: str) -> str:
    return name[:-1] if name.endswith("2") else name


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _knob(stage: int, name: str, value: Any) -> Knob | None:
    """The knob for one argument, or None when it is not tunable."""
    base = _base(name)
    if base.endswith("_prob") or base == "prob":
        if _is_number(value):
            return Knob(stage, name, "prob", 0.0, 1.0, 1)
        if isinstance(value, (list, tuple)) and value and all(_is_number(v) for v in value):
            return Knob(stage, name, "probs", 0.0, 1.0, len(value))
        return None
    rule = RANGE_RULES.get(base)
    if rule is None:
        return None
    kind, low, high = rule
    if kind in ("range", "odd_range"):
        if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(v) for v in value)):
            return None
        low, high = min(low, float(value[0])), max(high, float(value[1]))
        return Knob(stage, name, kind, low, high, 2)
    if not _is_number(value):
        return None
    return Knob(stage, name, kind, min(low, float(value)), max(high, float(value)), 1)


class SearchSpace:
    """Maps a chain's tunable arguments to a point in [0, 1]^d and back to a chain config."""

    def __init__(self, chain: Chain, params: Sequence[str] | None = None) -> None:
        self.config = chain.to_config()
        stages = self.config["stages"]
        found = [k for i, s in enumerate(stages) for n, v in s.items() if n != "type" and (k := _knob(i, n, v))]
        if not found:
            kinds = ", ".join(sorted({s["type"] for s in stages}))
            raise ValueError(f"the chain ({kinds}) has nothing to calibrate: none of its stages has a numeric "
                             "range, probability or kernel setting (e.g. identity or bicubic)")
        if params:
            names = sorted({k.name for k in found} | {k.label for k in found})
            for p in params:
                if p not in names:
                    raise ValueError(f"--params: the chain has no tunable argument {p!r}"
                                     f"{closest(p, names)}; tunable: {', '.join(sorted({k.name for k in found}))}")
            found = [k for k in found if k.name in params or k.label in params]
        self.knobs = found
        self.dim = sum(k.size for k in found)

    def current(self, knob: Knob) -> Any:
        return self.config["stages"][knob.stage][knob.name]

    def encode(self) -> np.ndarray:
        """The chain's own values as a point of the unit cube."""
        parts: list[float] = []
        for k in self.knobs:
            value = self.current(k)
            values = list(value) if isinstance(value, (list, tuple)) else [value]
            parts += [(float(v) - k.low) / (k.high - k.low) if k.high > k.low else 0.5 for v in values]
        return np.clip(np.array(parts, dtype=np.float64), 0.0, 1.0)

    def values(self, point: np.ndarray) -> dict[Knob, Any]:
        """Decoded, rounded argument values for a point of the unit cube (clipped to it)."""
        point = np.clip(np.asarray(point, dtype=np.float64), 0.0, 1.0)
        out: dict[Knob, Any] = {}
        i = 0
        for k in self.knobs:
            u = point[i:i + k.size]
            i += k.size
            out[k] = _decode(k, u)
        return out

    def config_for(self, point: np.ndarray) -> dict[str, Any]:
        """The chain config dict for a point (the stages' checks run in ``chain_from_dict``)."""
        config = copy.deepcopy(self.config)
        for knob, value in self.values(point).items():
            config["stages"][knob.stage][knob.name] = value
        return config

    def chain_for(self, point: np.ndarray) -> Chain:
        return chain_from_dict(self.config_for(point))


def _decode(k: Knob, u: np.ndarray) -> Any:
    span = k.high - k.low
    if k.kind == "prob":
        return round(float(u[0]), PROB_DIGITS)
    if k.kind == "probs":
        total = float(u.sum())
        weights = u / total if total > 1e-6 else np.full_like(u, 1.0 / len(u))
        return [round(float(w), PROB_DIGITS) for w in weights]
    if k.kind == "number":
        return min(max(round(k.low + span * float(u[0]), FLOAT_DIGITS), k.low), k.high)
    a, b = sorted(float(v) for v in u)
    if k.kind == "odd_range":
        return [_odd(k.low + span * a, k.low, k.high), _odd(k.low + span * b, k.low, k.high)]
    low = min(max(round(k.low + span * a, FLOAT_DIGITS), k.low), k.high)
    high = min(max(round(k.low + span * b, FLOAT_DIGITS), low), k.high)
    return [low, high]


def _odd(value: float, low: float, high: float) -> int:
    """The nearest odd integer, within [low, high] (both odd)."""
    n = int(2 * round((value - 1) / 2) + 1)
    return int(min(max(n, int(low)), int(high)))
