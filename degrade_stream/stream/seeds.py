"""Per-sample seeds from (seed, epoch, sample key): the one function every entry point shares.

PairStream, PairCache, the BasicSR/mmagic plugins and the offline writer all call
``sample_seeds`` so that the same (seed, epoch or variant, key) gives the same LQ everywhere,
whatever the batch composition, shuffling, worker count or world size.

A key is any string (a file path, a dataset index, an id); ints and paths are turned into strings
with ``str()``, so dataset index 7 and the key "7" are the same sample. The key string is hashed
with BLAKE2b (stable across processes and Python versions, unlike the salted built-in ``hash()``)
and mixed with the seed and epoch by ``derive_seeds`` from ``degrade_stream.core.random``.
"""
from __future__ import annotations

import hashlib
import os
from typing import Sequence, Union

import torch
from torch import Tensor

from ..core.random import SampleRandom, derive_seeds

Key = Union[str, int, os.PathLike]

_MASK32 = 0xFFFFFFFF
_EPOCH_SALT = 0xE90C   # sub-stream tags: an epoch seed and a variant seed never coincide
_VARIANT_SALT = 0x7A21
_CHOICE_SALT = 0xC401


def key_string(key: Key | Tensor) -> str:
    """The canonical string of one sample key (``str()`` of ints and paths)."""
    if isinstance(key, Tensor):
        if key.numel() != 1 or key.dtype.is_floating_point:
            raise TypeError(f"a tensor sample key must be one integer, got {key!r}")
        return str(int(key))
    if isinstance(key, bool) or not isinstance(key, (str, int, os.PathLike)):
        raise TypeError(f"sample keys must be str, int or path, got {type(key).__name__} {key!r}")
    return os.fspath(key) if isinstance(key, os.PathLike) else str(key)


def key_strings(keys: Sequence[Key] | Tensor) -> list[str]:
    """Canonical strings for a batch of keys (a list, or a 1-D integer tensor of indices)."""
    if isinstance(keys, Tensor):
        if keys.dim() != 1 or keys.dtype.is_floating_point:
            raise TypeError(f"a tensor of sample keys must be 1-D integer, got shape {tuple(keys.shape)} "
                            f"dtype {keys.dtype}")
        return [str(k) for k in keys.tolist()]
    if isinstance(keys, (str, bytes)):
        raise TypeError("keys must be a sequence with one key per sample, got a single string")
    return [key_string(k) for k in keys]


def key_hashes(keys: Sequence[Key] | Tensor) -> Tensor:
    """(B,) int64: a stable 64-bit BLAKE2b hash of each key string."""
    values = [int.from_bytes(hashlib.blake2b(k.encode("utf-8"), digest_size=8, person=b"ds-key").digest(),
                             "little", signed=True) for k in key_strings(keys)]
    return torch.tensor(values, dtype=torch.int64)


def _seed_words(seed: int) -> tuple[int, int]:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    return seed & _MASK32, (seed >> 32) & _MASK32


def sample_seeds(seed: int, epoch: int | None, keys: Sequence[Key] | Tensor,
                 variant: int | Sequence[int] | Tensor | None = None) -> Tensor:
    """(B,) int64 CPU per-sample seeds for ``chain(hq, seed=...)``.

    Without ``variant``: the seed of each key in ``epoch`` (a fresh LQ every epoch).
    With ``variant`` (an int or one per key): the seed of cache variant ``variant`` of each key;
    ``epoch`` is then ignored, since a variant is the same image whichever epoch uses it.
    """
    lo, hi = _seed_words(seed)
    base = key_hashes(keys)
    if variant is None:
        if epoch is None or isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be an int >= 0 when no variant is given, got {epoch!r}")
        return derive_seeds(base, lo, hi, _EPOCH_SALT, epoch)
    v = torch.as_tensor(variant, dtype=torch.int64).reshape(-1)
    if v.numel() == 1:
        v = v.expand(base.shape[0])
    if v.numel() != base.shape[0]:
        raise ValueError(f"expected one variant per key ({base.shape[0]}), got {v.numel()}")
    seeds = derive_seeds(base, lo, hi, _VARIANT_SALT)
    return derive_seeds(seeds ^ (v * 0x2545F491), _VARIANT_SALT)


def variant_index(seed: int, epoch: int, keys: Sequence[Key] | Tensor, variants: int) -> Tensor:
    """(B,) int64 in [0, variants): which cached variant each key uses in ``epoch``.

    Each block of ``variants`` consecutive epochs visits every variant of a key exactly once, in a
    per-key, per-block random order, so K variants are all used (and synthesised once) in K epochs.
    """
    if variants < 1:
        raise ValueError(f"variants must be >= 1, got {variants}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
    lo, hi = _seed_words(seed)
    block, position = divmod(epoch, variants)
    order = SampleRandom(derive_seeds(key_hashes(keys), lo, hi, _CHOICE_SALT, block)).permutation(variants)
    return order[:, position].contiguous()


def content_keys(hq: Tensor) -> list[str]:
    """Keys for samples that have none: a BLAKE2b hash of each image's shape and exact pixel values."""
    cpu = hq.detach().to("cpu", torch.float32).contiguous()
    keys = []
    for image in cpu:
        digest = hashlib.blake2b(str(tuple(image.shape)).encode(), digest_size=16, person=b"ds-content")
        digest.update(image.numpy().tobytes())
        keys.append("content:" + digest.hexdigest())
    return keys
