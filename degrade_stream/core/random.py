"""Counter-based per-sample random numbers.

Every random value of sample ``i`` is a hash of (its seed, a stream id, a counter), computed with
integer tensor ops on the batch's device. So sample i's draws depend only on its own seed -- never
on batch size, position in the batch, worker count or device -- and the same seed gives bit-identical
uniforms on CPU and CUDA. No global RNG is touched. (torch.Generator cannot do this without a
Python loop over the batch: it has one stream per generator, not one per sample.)

The mixing function is Chris Wellons' "lowbias32" integer hash, evaluated in 32-bit lanes held in
int64 tensors, with multiplications split into 16-bit halves so nothing overflows.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from .salts import BATCH_POSITION, BATCH_SEED

_MASK32 = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9


def _mul32(x: Tensor, c: int) -> Tensor:
    """(x * c) mod 2**32 for x in [0, 2**32) without int64 overflow."""
    lo = (x & 0xFFFF) * c
    hi = (((x >> 16) * c) & 0xFFFF) << 16
    return (lo + hi) & _MASK32


def mix32(x: Tensor) -> Tensor:
    """lowbias32 avalanche hash of uint32 values stored in an int64 tensor."""
    x = x & _MASK32
    x = _mul32(x ^ (x >> 16), 0x7FEB352D)
    x = _mul32(x ^ (x >> 15), 0x846CA68B)
    return x ^ (x >> 16)


def _fold_seed(seeds: Tensor) -> Tensor:
    """Reduce int64 seeds to well-mixed uint32 keys (both halves of the seed count)."""
    lo = seeds & _MASK32
    hi = (seeds >> 32) & _MASK32
    return mix32(lo ^ mix32(hi + _GOLDEN))


def derive_seeds(seeds: Tensor, *salt: int) -> Tensor:
    """Independent per-sample seeds for a sub-stream named by integers ``salt`` (e.g. a stage index)."""
    key = _fold_seed(seeds.to(torch.int64))
    for s in salt:
        key = mix32(key ^ mix32(torch.full_like(key, (int(s) * _GOLDEN + 0x632BE5AB) & _MASK32)))
    hi = mix32(key ^ 0x5BD1E995)
    return (hi << 31) | (key >> 1)  # a non-negative int64 seed


def as_seed_tensor(seed: int | Sequence[int] | Tensor | None, batch_size: int) -> Tensor:
    """Per-sample seeds as a CPU (B,) int64 tensor.

    An int seeds the batch as a whole: sample i gets ``derive_seeds(seed, i)``, so its result
    depends on its position. Pass a (B,) tensor of per-sample seeds for results that depend only on
    each sample's own seed (PairStream does this from sample keys).
    """
    if seed is None:
        raise ValueError("seed is required: pass an int or a (B,) int64 tensor of per-sample seeds")
    if isinstance(seed, bool):
        raise TypeError(f"seed must be an int or a (B,) int64 tensor, got {seed!r}")
    if isinstance(seed, int):
        base = torch.full((batch_size,), seed, dtype=torch.int64)
        return derive_seeds(base, BATCH_SEED) ^ derive_seeds(torch.arange(batch_size, dtype=torch.int64), BATCH_POSITION)
    seeds = torch.as_tensor(seed)
    if seeds.dtype.is_floating_point or seeds.dtype == torch.bool:
        raise TypeError(f"seed tensor must hold integers, got dtype {seeds.dtype}")
    seeds = seeds.to(device="cpu", dtype=torch.int64).reshape(-1)
    if seeds.numel() != batch_size:
        raise ValueError(f"expected {batch_size} per-sample seeds (one per image), got {seeds.numel()}")
    return seeds


class SampleRandom:
    """Per-sample random draws, vectorised over the batch.

    Each call consumes a fresh block of counters, so successive calls give independent values;
    the sequence of calls (not their timing) fixes the result.
    """

    def __init__(self, seeds: Tensor, device: torch.device | str | None = None, stream: int = 0) -> None:
        seeds = torch.as_tensor(seeds, dtype=torch.int64).reshape(-1)
        self.device = torch.device(device) if device is not None else seeds.device
        self._keys = derive_seeds(seeds, stream).to(self.device) & _MASK32  # (B,)
        self._counter = 0

    @property
    def batch_size(self) -> int:
        return int(self._keys.shape[0])

    def fork(self, stream: int) -> "SampleRandom":
        """A new, independent generator for sub-stream ``stream`` of the same samples."""
        child = SampleRandom.__new__(SampleRandom)
        child.device = self.device
        child._keys = mix32(self._keys ^ mix32(torch.full_like(self._keys, (stream * _GOLDEN + 1) & _MASK32)))
        child._counter = 0
        return child

    def bits(self, *shape: int) -> Tensor:
        """(B, *shape) uniformly random uint32 values in int64."""
        n = math.prod(shape)
        start = self._counter
        self._counter += n
        counters = torch.arange(start, start + n, device=self.device, dtype=torch.int64)
        a = mix32(counters * 2 + 1)  # decorrelate counter from key before combining
        h = mix32(self._keys[:, None] ^ a[None, :])
        h = mix32(h + (self._keys[:, None] >> 3))
        return h.reshape(self.batch_size, *shape)

    def uniform(self, *shape: int, low: float | Tensor = 0.0, high: float | Tensor = 1.0) -> Tensor:
        """(B, *shape) float32 uniform in [low, high); low/high may be (B,)-broadcastable tensors."""
        u = ((self.bits(*shape) >> 8).to(torch.float32) + 0.5) * (1.0 / (1 << 24))
        low_t = _per_sample(low, u)
        high_t = _per_sample(high, u)
        return low_t + (high_t - low_t) * u

    def normal(self, *shape: int) -> Tensor:
        """(B, *shape) standard normal float32 (Box-Muller)."""
        u1 = self.uniform(*shape)
        u2 = self.uniform(*shape)
        return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos((2.0 * math.pi) * u2)

    def randint(self, low: int, high: int, *shape: int) -> Tensor:
        """(B, *shape) int64 uniform over {low, ..., high} (inclusive on both ends)."""
        if high < low:
            raise ValueError(f"randint needs low <= high, got {low} > {high}")
        u = self.uniform(*shape)
        return (low + torch.floor(u * (high - low + 1))).to(torch.int64).clamp_(max=high)

    def bernoulli(self, p: float | Tensor, *shape: int) -> Tensor:
        """(B, *shape) bool, True with probability p."""
        u = self.uniform(*shape)
        return u < _per_sample(p, u)

    def categorical(self, probs: Sequence[float] | Tensor, *shape: int) -> Tensor:
        """(B, *shape) int64 indices drawn with the given (unnormalised) probabilities."""
        p = torch.as_tensor(probs, dtype=torch.float32, device=self.device)
        cdf = torch.cumsum(p / p.sum(), 0)
        u = self.uniform(*shape)
        idx = torch.searchsorted(cdf, u.reshape(-1).contiguous(), right=True)
        return idx.clamp_(max=p.numel() - 1).reshape(u.shape)

    def permutation(self, n: int) -> Tensor:
        """(B, n) int64: a random permutation of range(n) per sample."""
        return torch.argsort(self.uniform(n), dim=1)


def _per_sample(value: float | Tensor, like: Tensor) -> Tensor:
    """Broadcast a scalar or (B,) tensor against a (B, *shape) tensor."""
    if not isinstance(value, Tensor):
        return torch.tensor(value, dtype=like.dtype, device=like.device)
    value = value.to(device=like.device, dtype=like.dtype)
    return value.reshape(value.shape + (1,) * (like.dim() - value.dim()))
