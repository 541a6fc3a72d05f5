"""The identity stage: returns its input. Useful as a baseline (e.g. stream overhead benchmarks)."""
from __future__ import annotations

from torch import Tensor

from .registry import register
from .transform import Params, Transform


@register("identity")
class Identity(Transform):
    """Pass the batch through unchanged."""

    def __init__(self) -> None:
        pass

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        return batch
