"""Per-sample seeds from (seed, epoch, sample key): the one function every entry point shares.

PairStream, PairCache, the BasicSR/mmagic plugins and the offline writer all call
``sample_seeds`` (the mmagic plugin through ``visit_seeds`` and ``content_seeds``, for callers that know
no epoch) so that the same (seed, epoch or variant, key) gives the same LQ everywhere,
whatever the batch composition, shuffling, worker count or world size.

A key is any string (a file path, a dataset index, an id); ints and paths are turned into strings
with ``str()``, so dataset index 7 and the key "7" are the same sample. The key string is hashed
together with the seed and the epoch (or cache variant) with BLAKE2b: stable across processes,
machines and Python versions, unlike the salted built-in ``hash()``.
"""
from __future__ import annotations

import hashlib
import os
from typing import MutableMapping, Sequence, Union

import torch
from torch import Tensor

from ..core.seed_domain import canonical_seed
from ..core.salts import CONTENT_HASH, KEY_HASH, TAG_EPOCH, TAG_ORDER, TAG_VARIANT


Key = Union[str, int, os.PathLike]


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


def _hash63(text: str) -> int:
    """A stable non-negative 63-bit integer hash (BLAKE2b) of ``text``."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8, person=KEY_HASH).digest()
    return int.from_bytes(digest, "little") >> 1


def _check_int(name: str, value: object, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        raise ValueError(f"{name} must be an int{f' >= {low}' if low is not None else ''}, got {value!r}")
    return value


def sample_seeds(seed: int, epoch: int | None, keys: Sequence[Key] | Tensor,
                 variant: int | Sequence[int] | Tensor | None = None) -> Tensor:
    """(B,) int64 CPU per-sample seeds for ``chain(hq, seed=...)``.

    Without ``variant``: the seed of each key in ``epoch`` (a fresh LQ every epoch).
    With ``variant`` (an int or one per key): the seed of cache variant ``variant`` of each key;
    ``epoch`` is then ignored, since a variant is the same image whichever epoch uses it.
    Plain hashing of the text "e|seed|epoch|key" (or "v|seed|variant|key"): the key comes last, so
    the encoding is unambiguous, and no tensor op is needed (cheap for every batch). ``seed`` is any
    integer, reduced modulo 2**64 first (``core/seed_domain.py``).
    """
    seed = canonical_seed(seed)
    names = key_strings(keys)
    if variant is None:
        _check_int("epoch (when no variant is given)", epoch, low=0)
        values = [_hash63(f"{TAG_EPOCH}|{seed}|{epoch}|{k}") for k in names]
    else:
        v = torch.as_tensor(variant).reshape(-1)
        if v.dtype.is_floating_point or v.dtype == torch.bool:
            raise ValueError(f"variant must hold integers, got {variant!r}")
        v = v.tolist()
        if len(v) == 1:
            v = v * len(names)
        if len(v) != len(names):
            raise ValueError(f"expected one variant per key ({len(names)}), got {len(v)}")
        values = [_hash63(f"{TAG_VARIANT}|{seed}|{int(j)}|{k}") for j, k in zip(v, names)]
    return torch.tensor(values, dtype=torch.int64).reshape(len(names))


def variant_index(seed: int, epoch: int, keys: Sequence[Key] | Tensor, variants: int) -> Tensor:
    """(B,) int64 in [0, variants): which cached variant each key uses in ``epoch``.

    Each block of ``variants`` consecutive epochs visits every variant of a key exactly once, in a
    per-key, per-block random order (variants sorted by a hash), so K variants are all used (and
    synthesised once) in K epochs.
    """
    seed = canonical_seed(seed)
    _check_int("variants", variants, low=1)
    _check_int("epoch", epoch, low=0)
    block, position = divmod(epoch, variants)
    chosen = []
    for k in key_strings(keys):
        order = sorted(range(variants), key=lambda j: _hash63(f"{TAG_ORDER}|{seed}|{block}|{j}|{k}"))
        chosen.append(order[position])
    return torch.tensor(chosen, dtype=torch.int64).reshape(-1)


def content_keys(hq: Tensor) -> list[str]:
    """Keys for samples that have none: a BLAKE2b hash of each image's shape and exact pixel values."""
    cpu = hq.detach().to("cpu", torch.float32).contiguous()
    keys = []
    for image in cpu:
        digest = hashlib.blake2b(str(tuple(image.shape)).encode(), digest_size=16, person=CONTENT_HASH)
        digest.update(image.numpy().tobytes())
        keys.append("content:" + digest.hexdigest())
    return keys


def visit_seeds(seed: int, keys: Sequence[Key | None], hq: Tensor, visits: MutableMapping[str, int]) -> Tensor:
    """(B,) seeds for callers without epochs: the n-th visit of a key (n counted from 0 in ``visits``,
    which this updates) has ``sample_seeds(seed, n, key)``, so every pass over the data gets fresh LQ.

    A key is used as ``str(key)``; if any key is None, every sample is keyed by its pixels
    (``content_keys(hq)``). A key twice in one batch counts as two visits, in batch order.
    """
    seed = canonical_seed(seed)
    names = content_keys(hq) if any(k is None for k in keys) else [str(k) for k in keys]
    seeds = []
    for name in names:
        visit = visits.get(name, 0)
        visits[name] = visit + 1
        seeds.append(sample_seeds(seed, visit, [name]))
    return torch.cat(seeds) if seeds else torch.zeros(0, dtype=torch.int64)


def content_seeds(seed: int, names: Sequence[str], hq: Tensor) -> Tensor:
    """(B,) seeds from each sample's name and its pixels (``sample_seeds(seed, 0, "name|content key")``):
    the same for the same crop of the same image, new whenever a random crop taken before changes.
    For a per-sample pipeline step, which knows neither the epoch nor how often it saw a sample."""
    if len(names) != hq.shape[0]:
        raise ValueError(f"expected one name per image ({hq.shape[0]}), got {len(names)}")
    return sample_seeds(seed, 0, [f"{name}|{content}" for name, content in zip(names, content_keys(hq))])
