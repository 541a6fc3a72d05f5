"""Counter-based per-sample random numbers with 64-bit sample keys.

Every random value of sample ``i`` is a hash of (its seed, a stream id, a counter), computed with
integer tensor ops on the batch's device. So sample i's draws depend only on its own seed -- never
on batch size, position in the batch, worker count or device -- and the same seed gives bit-identical
uniforms on CPU and CUDA. No global RNG is touched. (torch.Generator cannot do this without a
Python loop over the batch: it has one stream per generator, not one per sample.)

Keys are 64 bits wide, held as two 32-bit lanes (hi, lo) in int64 tensors, so two different seeds never
share a key: ``derive_seeds`` is a bijection of the int64 seeds for each salt (a 4-round Feistel network,
Luby & Rackoff 1988, whose round function is Chris Wellons' "lowbias32" integer hash). With 32-bit keys,
about 116 of a million sample-epoch seeds would have drawn the same numbers (the birthday bound
n^2 / 2^33). Multiplications are split into 16-bit halves so nothing overflows int64.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from .salts import BATCH_POSITION, BATCH_SEED
from .seed_domain import canonical_seed, is_per_sample, seed_tensor

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_GOLDEN = 0x9E3779B9
#: The round keys of the Feistel mix (digits of pi): one per round.
_ROUNDS = (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344)


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


def split64(values: Tensor) -> tuple[Tensor, Tensor]:
    """(hi, lo): the upper and lower 32 bits of int64 values (two's complement), each in [0, 2**32)."""
    values = values.to(torch.int64)
    return (values >> 32) & _MASK32, values & _MASK32


def join64(hi: Tensor, lo: Tensor) -> Tensor:
    """The int64 values whose upper and lower 32 bits are ``hi`` and ``lo`` (inverse of ``split64``)."""
    signed_hi = torch.where(hi >= (1 << 31), hi - (1 << 32), hi)  # no int64 overflow in the product below
    return signed_hi * (1 << 32) | lo


def mix64(hi: Tensor, lo: Tensor) -> tuple[Tensor, Tensor]:
    """A bijective 64-bit mix of (hi, lo) lanes: four Feistel rounds (L, R) -> (R, L ^ F(R ^ k))."""
    for k in _ROUNDS:
        hi, lo = lo, hi ^ mix32(lo ^ k)
    return hi, lo


def _mix32_int(x: int) -> int:
    """``mix32`` of one Python int (salts are plain ints: no tensor ops needed for them)."""
    x &= _MASK32
    x = ((x ^ (x >> 16)) * 0x7FEB352D) & _MASK32
    x = ((x ^ (x >> 15)) * 0x846CA68B) & _MASK32
    return x ^ (x >> 16)


def _salt_lanes(salt: int) -> tuple[int, int]:
    """The (hi, lo) lanes of a mixed salt: ``mix64`` of any Python int taken modulo 2**64."""
    s = int(salt) & _MASK64
    hi, lo = (s >> 32) ^ _GOLDEN, s & _MASK32
    for k in _ROUNDS:
        hi, lo = lo, hi ^ _mix32_int(lo ^ k)
    return hi, lo


def derive_seeds(seeds: Tensor, *salt: int) -> Tensor:
    """Independent per-sample int64 seeds for a sub-stream named by integers ``salt`` (e.g. a stage index).

    For each salt this is a bijection of the int64 seeds: distinct seeds give distinct derived seeds."""
    hi, lo = mix64(*split64(seeds))
    for s in salt:
        s_hi, s_lo = _salt_lanes(s)
        hi, lo = mix64(hi ^ s_hi, lo ^ s_lo)
    return join64(hi, lo)


def as_seed_tensor(seed: int | Sequence[int] | Tensor | None, batch_size: int) -> Tensor:
    """Per-sample seeds as a CPU (B,) int64 tensor.

    One seed (any integer, a numpy integer or a 0-dim tensor, reduced modulo 2**64 as ``core/seed_domain.py``
    says) seeds the batch as a whole: sample i gets a seed derived from (seed, i), so its result depends on
    its position. Pass a (B,) tensor or list of per-sample seeds for results that depend only on each
    sample's own seed (PairStream does this from sample keys).
    """
    if seed is None:
        raise ValueError("seed is required: pass an int or a (B,) int64 tensor of per-sample seeds")
    if is_per_sample(seed):
        seeds = seed_tensor(seed, "seed")
        if seeds.numel() != batch_size:
            raise ValueError(f"seed: expected {batch_size} per-sample seeds (one per image), got {seeds.numel()}")
        return seeds
    base = torch.full((batch_size,), canonical_seed(seed, "seed"), dtype=torch.int64)
    return derive_seeds(base, BATCH_SEED) ^ derive_seeds(torch.arange(batch_size, dtype=torch.int64), BATCH_POSITION)


class SampleRandom:
    """Per-sample random draws, vectorised over the batch.

    Each call consumes a fresh block of counters, so successive calls give independent values;
    the sequence of calls (not their timing) fixes the result.
    """

    def __init__(self, seeds: Tensor, device: torch.device | str | None = None, stream: int = 0) -> None:
        seeds = torch.as_tensor(seeds, dtype=torch.int64).reshape(-1)
        self.device = torch.device(device) if device is not None else seeds.device
        self._hi, self._lo = split64(derive_seeds(seeds, stream).to(self.device))  # the (B,) 64-bit keys
        self._counter = 0

    @property
    def batch_size(self) -> int:
        return int(self._lo.shape[0])

    def fork(self, stream: int) -> "SampleRandom":
        """A new, independent generator for sub-stream ``stream`` of the same samples."""
        child = SampleRandom.__new__(SampleRandom)
        child.device = self.device
        s_hi, s_lo = _salt_lanes(stream)
        child._hi, child._lo = mix64(self._hi ^ s_hi, self._lo ^ s_lo)
        child._counter = 0
        return child

    def bits(self, *shape: int) -> Tensor:
        """(B, *shape) uniformly random uint32 values in int64: a hash of (64-bit key, 64-bit counter)."""
        n = math.prod(shape)
        start = self._counter
        self._counter += n
        counters = torch.arange(start, start + n, device=self.device, dtype=torch.int64)
        a = counters * 2 + 1  # decorrelate counter from key before combining
        if start + n > 1 << 31:  # counters past 2**31 fold in their high bits (mix32(0) = 0 below that)
            a = (a & _MASK32) ^ mix32(counters >> 31)
        a = mix32(a)
        h = mix32(self._lo[:, None] ^ a[None, :])
        h = mix32(h ^ self._hi[:, None])
        h = mix32(h + self._lo[:, None])
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
