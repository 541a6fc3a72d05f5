"""The output check: no LQ with a NaN or an infinity leaves a chain or a stage (issue 23 item 5).

A non-finite value can come from a hostile config, a NaN pixel that a sampled input check missed, or a
model's weights; clamping would hide +-inf as 0 or 1 and keep NaN, and a pair writer or the cache would then
store it for ever. The check reads every value of the output once (``torch.isfinite(...).all()``: one
pass over the LQ, which is smaller than the HQ the chain worked through), and on failure names each bad
sample by its batch index and seed; ``NonFiniteOutput.with_keys`` re-names them by the caller's keys.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from .errors import short_repr

#: How many bad samples an error lists by name.
LISTED = 8


class NonFiniteOutput(ValueError):
    """The output of ``where`` holds NaN or infinite values in the samples ``samples`` (batch indices)."""

    def __init__(self, where: str, samples: list[int], seeds: list[int] | None = None,
                 keys: Sequence[str] | None = None, bad_inputs: frozenset[int] = frozenset()) -> None:
        self.where, self.samples, self.seeds, self.keys = where, samples, seeds, keys
        self.bad_inputs = bad_inputs  # the samples whose input already held NaN or Inf
        super().__init__(self._message())

    def _message(self) -> str:
        names = []
        for i in self.samples[:LISTED]:
            label = f"key {short_repr(str(self.keys[i]))}" if self.keys is not None else f"sample {i}"
            if self.seeds is not None:
                label += f" (seed {self.seeds[i]})"
            if i in self.bad_inputs:
                label += " whose input image already holds NaN or Inf"
            names.append(label)
        more = f" and {len(self.samples) - LISTED} more" if len(self.samples) > LISTED else ""
        return (f"{self.where} produced NaN or infinite values for {', '.join(names)}{more}; nothing was returned "
                "for this batch. Check the config's ranges, the input images and the model weights")

    def with_keys(self, keys: Sequence[str]) -> "NonFiniteOutput":
        """The same error naming each bad sample by ``keys[i]`` (the keys of the batch's rows, in order)."""
        return NonFiniteOutput(self.where, self.samples, self.seeds, list(keys), self.bad_inputs)


def _bad_rows(x: Tensor) -> list[int]:
    return (~torch.isfinite(x)).reshape(x.shape[0], -1).any(dim=1).nonzero().reshape(-1).tolist()


def check_finite_output(x: Tensor, where: str, seeds: Tensor | None = None, inputs: Tensor | None = None) -> Tensor:
    """``x`` itself if every value is finite; else NonFiniteOutput naming the bad samples (dim 0) and,
    given the batch's ``inputs``, which of them had a non-finite input."""
    if bool(torch.isfinite(x).all()):
        return x
    bad = _bad_rows(x)
    seed_list = seeds.tolist() if seeds is not None and seeds.numel() == x.shape[0] else None
    bad_in = frozenset(_bad_rows(inputs)) if inputs is not None and inputs.shape[0] == x.shape[0] else frozenset()
    raise NonFiniteOutput(where, bad, seed_list, bad_inputs=bad_in)
