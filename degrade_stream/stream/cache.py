"""PairCache: K lossless LQ variants per sample on disk, so an expensive chain (the DDPM refiner)
runs at most K times per sample over a whole training run.

Use it with PairStream (``PairStream(loader, chain, cache=PairCache(...))``) or directly, for one
sample or a batch, from any data pipeline (the BasicSR/mmagic plugins do)::

    cache = PairCache("cache/", variants=4)
    lq, info = cache.synthesize(chain, hq, keys=["a.png", "b.png"], seed=0, epoch=3)

``synthesize`` picks each key's variant for the epoch (``seeds.variant_index``), reads the entries
that exist, runs the chain ONCE on the subset that is missing -- each sample with its own seed
``seeds.sample_seeds(seed, None, key, variant=v)`` -- writes those entries, and returns the whole
batch in order as float in [0, 1] on ``hq``'s device, rounded to 8 bit (so a hit and a miss give
the same values). ``info`` holds the keys, variants, seeds, a hit mask and the chain params of the
misses. ``keys=None`` keys each sample by a hash of its HQ pixels.

An entry is identified by what made it -- the chain config hash and, for a stage with a trained model,
the checkpoint step it resolved to and a hash of its weights (``cache_identity.py``) -- and by what it
was made from: seed, key, variant, HQ height and width, and (``verify_hq=True``, the default) a SHA-256
hash of the HQ pixels, so a changed config, a retrained model or new pixels under an old key never serve
stale pairs (the hash's cost: benchmarks/RESULTS.md, "Pair integrity"). The HQ of a key must be the same
image every epoch for its entries to be hits (do random crops after synthesis, e.g. PairStream's
``crop=``). Entry format, checksum over header, identity and pixels, and atomic writes: ``entry.py``.
Corrupt entries are recomputed and counted; ``max_bytes`` evicts the least recently
used entries (file mtime, touched on every hit, so LRU holds across processes sharing the folder);
the folder's total is shared by every process writing to it (``cache_size.py``), so the bound holds
for N writers; a full disk turns writing off with one warning while synthesis goes on. Counters: ``stats()``,
logged by ``log_stats()`` on the ``degrade_stream.cache`` logger.
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor

from ..atomic import is_stale_temp, remove_stale_temps, temp_path_for, temp_target, write_bytes_atomic
from ..core.chain import Chain
from ..core.checks import check_image_batch
from ..core.params import cat_params
from ..core.quantize import uint8_levels
from .cache_identity import chain_identity, folder_key, hq_fingerprints
from .cache_size import SharedSize
from .entry import CorruptEntry, encode_entry, read_entry
from ..core.seed_domain import canonical_seed
from .seeds import Key, content_keys, key_strings, sample_seeds, variant_index

logger = logging.getLogger("degrade_stream.cache")

ENTRY_SUFFIX = ".lq"
PROBE_NAME = ".probe"  # the writability check's file (under a temp name) in the root
_FOLDER_KEY = re.compile(r"^[0-9a-f]{16}$")
_FAN_NAME = re.compile(r"^[0-9a-f]{2}$")
_ENTRY_NAME = re.compile(r"^[0-9a-f]{32}\.lq$")
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_LOW_WATER = 0.9  # after eviction the cache holds at most this fraction of max_bytes


@dataclass
class CacheInfo:
    """What ``PairCache.synthesize`` did for each sample of a batch."""

    keys: list[str]
    variants: Tensor     # (B,) int64 variant used this epoch
    seeds: Tensor        # (B,) int64 per-sample chain seeds (replay: chain(hq, seed=seeds))
    hit: Tensor          # (B,) bool: read from disk
    miss_index: Tensor   # (M,) int64 positions synthesised in this call
    params: list[Any] | None  # chain params of the misses, in miss_index order (None if no miss)


class PairCache:
    """A directory of synthesised LQ variants, shared by threads, processes and DDP ranks.

    ``variants``: LQ variants kept per sample; ``max_bytes``: LRU bound of the folder (None: unbounded);
    ``verify_hq``: also key each entry by a hash of its HQ pixels (default), so new pixels under an old key
    are a miss rather than the old LQ; False trusts keys to name fixed images.
    """

    def __init__(self, root: str | os.PathLike, variants: int = 1, max_bytes: int | None = None,
                 verify_hq: bool = True) -> None:
        if isinstance(variants, bool) or not isinstance(variants, int) or variants < 1:
            raise ValueError(f"PairCache variants must be an int >= 1, got {variants!r}")
        if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int)
                                      or max_bytes <= 0):
            raise ValueError(f"PairCache max_bytes must be a positive int or None, got {max_bytes!r}")
        if not isinstance(verify_hq, bool):
            raise ValueError(f"PairCache verify_hq must be True or False, got {verify_hq!r}")
        self.root = Path(root)
        self.variants = variants
        self.max_bytes = max_bytes
        self.verify_hq = verify_hq
        self._check_writable()
        self._lock = threading.Lock()
        self._counts = Counter(hits=0, misses=0, recomputed=0, writes=0, evictions=0, write_failures=0)
        self._writing = True
        self._size = SharedSize(self.root)  # the folder's total, shared by every process writing to it
        if max_bytes is not None:
            with self._size.locked() as fd:
                self._size.write(fd, sum(size for _, size, _ in self._scan()))

    # --- public -------------------------------------------------------------------------------
    def synthesize(self, chain: Chain, hq: Tensor, keys: Sequence[Key] | Tensor | None = None, seed: int = 0,
                   epoch: int = 0, *, variant: int | Tensor | None = None,
                   check: bool = True) -> tuple[Tensor, CacheInfo]:
        """LQ for the batch ``hq`` (B,3,H,W): cached variants read, missing ones synthesised and stored.

        ``variant`` overrides the per-epoch choice (an int, or one per sample).
        """
        if check:
            check_image_batch(hq, "hq")
        b, _, height, width = hq.shape
        seed = canonical_seed(seed)  # the identity holds the reduced seed: seed + 2**64 is the same entry
        names = content_keys(hq) if keys is None else key_strings(keys)
        if len(names) != b:
            raise ValueError(f"got {len(names)} keys for a batch of {b} images")
        variants = self._variants(seed, epoch, names, variant)
        seeds = sample_seeds(seed, None, names, variant=variants)
        made_by = chain_identity(chain)
        folder = folder_key(made_by)
        contents = hq_fingerprints(hq) if self.verify_hq and keys is not None else [None] * b  # keyless: key = content
        identities = [self._identity(made_by, seed, k, int(v), height, width, c)
                      for k, v, c in zip(names, variants.tolist(), contents)]
        paths = [self.entry_path(folder, ident) for ident in identities]

        stored: list[np.ndarray | None] = [self._read(p, ident) for p, ident in zip(paths, identities)]
        todo = [i for i, px in enumerate(stored) if px is None]
        made: dict[int, Tensor] = {}
        params = None
        if todo:
            params = self._run(chain, hq, seeds, todo, made)
        # hits must match the shape the chain makes; one that does not is stale/corrupt: redo it
        shapes = [tuple(made[i].shape) for i in todo] or [px.shape for px in stored if px is not None]
        expected = Counter(shapes).most_common(1)[0][0]
        redo = [i for i, px in enumerate(stored) if px is not None and px.shape != expected]
        if redo:
            self._count(recomputed=len(redo), hits=-len(redo))
            for i in redo:
                stored[i] = None
            redo_params = self._run(chain, hq, seeds, redo, made)
            params = redo_params if params is None else cat_params([params, redo_params])
            todo = todo + redo
        self._store([(paths[i], identities[i], made[i]) for i in todo])

        out = torch.empty((b, *expected), dtype=torch.uint8, device=hq.device)
        hit_index = [i for i in range(b) if stored[i] is not None]
        if hit_index:
            host = torch.from_numpy(np.stack([stored[i] for i in hit_index]))
            if hq.device.type == "cuda":
                host = host.pin_memory()
            out[torch.tensor(hit_index, device=hq.device)] = host.to(hq.device, non_blocking=True)
        if todo:
            out[torch.tensor(todo, device=hq.device)] = torch.stack([made[i] for i in todo])
        hit = torch.zeros(b, dtype=torch.bool)
        hit[hit_index] = True
        info = CacheInfo(keys=names, variants=variants, seeds=seeds, hit=hit,
                         miss_index=torch.tensor(todo, dtype=torch.int64), params=params)
        return out.to(hq.dtype) / 255.0, info

    def _variants(self, seed: int, epoch: int, names: list[str], variant: int | Tensor | None) -> Tensor:
        """(B,) variant of each sample: the epoch's choice, or ``variant`` (one, or one per sample), checked."""
        if variant is None:
            return variant_index(seed, epoch, names, self.variants)
        variants = torch.as_tensor(variant, dtype=torch.int64).reshape(-1).expand(len(names)).clone()
        if bool(((variants < 0) | (variants >= self.variants)).any()):
            raise ValueError(f"variant must be in [0, {self.variants}), got {variants.tolist()}")
        return variants

    def stats(self) -> dict[str, int]:
        """Counters since construction: hits, misses, recomputed (corrupt entries), writes,
        evictions, write_failures; and ``writing`` (0 once a full disk turned writes off)."""
        with self._lock:
            return {**self._counts, "writing": int(self._writing)}

    def log_stats(self, level: int = logging.INFO) -> dict[str, int]:
        """Log the counters (``degrade_stream.cache`` logger) and return them."""
        counters = self.stats()
        logger.log(level, "pair cache %s: %s", self.root, ", ".join(f"{k}={v}" for k, v in counters.items()))
        return counters

    def entry_path(self, folder: str, identity: str) -> Path:
        """Where the entry with this identity lives: ``root/<folder>/<ab>/<digest>.lq``, where ``folder`` is
        ``cache_identity.folder_key`` of the chain (its config hash, for chains without a model)."""
        digest = hashlib.blake2b(identity.encode("utf-8"), digest_size=16).hexdigest()
        return self.root / folder / digest[:2] / f"{digest}{ENTRY_SUFFIX}"

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (e.g. into DataLoader workers): the lock is recreated, counters start from zero."""
        state = self.__dict__.copy()
        del state["_lock"]
        state["_counts"] = Counter({k: 0 for k in self._counts})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"PairCache({str(self.root)!r}, variants={self.variants}, max_bytes={self.max_bytes}, "
                f"verify_hq={self.verify_hq})")

    # --- internals ----------------------------------------------------------------------------
    @staticmethod
    def _identity(made_by: dict[str, Any], seed: int, key: str, variant: int, height: int, width: int,
                  content: str | None) -> str:
        """What an entry is: made by (chain, models), from (seed, key, variant, HQ size, HQ content)."""
        fields = {**made_by, "seed": seed, "key": key, "variant": variant, "hq": [height, width]}
        if content is not None:
            fields["hq_content"] = content
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    def _check_writable(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = temp_path_for(self.root / PROBE_NAME)  # a temp name: a killed process's probe is cleaned up
            with open(probe, "xb") as f:
                f.write(b"ok")
            probe.unlink()
            remove_stale_temps(self.root, owns=lambda target: target == PROBE_NAME)  # probes of killed processes
        except OSError as err:
            raise ValueError(f"PairCache: cache directory {str(self.root)!r} is not writable: "
                             f"{err.strerror or err}") from None

    def _count(self, **deltas: int) -> None:
        with self._lock:
            self._counts.update(deltas)

    def _read(self, path: Path, identity: str) -> np.ndarray | None:
        try:
            pixels = read_entry(path, identity)
        except (CorruptEntry, OSError) as err:
            logger.warning("pair cache: recomputing corrupt entry %s (%s)", path, err)
            self._count(recomputed=1)
            return None
        if pixels is None:
            self._count(misses=1)
            return None
        self._count(hits=1)
        if self.max_bytes is not None:
            try:
                os.utime(path)  # mark as recently used for LRU eviction
            except OSError:
                pass
        return pixels

    @staticmethod
    def _run(chain: Chain, hq: Tensor, seeds: Tensor, index: list[int], made: dict[int, Tensor]) -> list[Any]:
        """One chain call on the samples ``index``; their 8-bit LQ go into ``made``."""
        rows = torch.tensor(index, dtype=torch.int64)
        result = chain(hq[rows.to(hq.device)], seed=seeds[rows], check=False)
        lq8 = uint8_levels(result.lq)
        for j, i in enumerate(index):
            made[i] = lq8[j]
        return result.params

    def _store(self, items: list[tuple[Path, str, Tensor]]) -> None:
        if not items or not self._writing:
            return
        on_host = torch.stack([t for _, _, t in items]).cpu().numpy()
        written = 0
        for (path, identity, _), pixels in zip(items, on_host):
            blob = encode_entry(identity, pixels)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_bytes_atomic(path, blob)
            except OSError as err:
                if err.errno not in _DISK_FULL:
                    raise
                self._disable_writes(err)
                break
            written += len(blob)
            self._count(writes=1)
        if self.max_bytes is not None and written:
            try:
                total = self._size.add(written)
            except OSError:  # the size file cannot be updated (a full disk, say): count from a scan
                total = None
            if total is None or total > self.max_bytes:
                self._evict()

    def _disable_writes(self, err: OSError) -> None:
        with self._lock:
            was_writing = self._writing
            self._writing = False
            self._counts.update(write_failures=1)
        if was_writing:
            message = (f"PairCache: disk full writing to {str(self.root)!r} ({err.strerror or err}); "
                       "caching turned off, pairs are still synthesised")
            logger.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def _scan(self) -> list[tuple[float, int, Path]]:
        """(mtime, size, path) of every entry of the cache's layout (``root/<16 hex>/<2 hex>/<32 hex>.lq``);
        stale temp files of entry writers there (``atomic.is_stale_temp``) are removed. Nothing outside that
        layout is looked at, so a user's files in the root are never counted, evicted or deleted."""
        found, now = [], time.time()
        for top in _layout_folders(self.root, _FOLDER_KEY):
            for fan in _layout_folders(top, _FAN_NAME):
                for item in _listing(fan):
                    target = temp_target(item.name)
                    try:
                        if _ENTRY_NAME.match(item.name) and item.is_file(follow_symlinks=False):
                            st = item.stat(follow_symlinks=False)
                            found.append((st.st_mtime, st.st_size, Path(item.path)))
                        elif target is not None and _ENTRY_NAME.match(target):
                            if is_stale_temp(item.name, item.stat(follow_symlinks=False).st_mtime, now):
                                os.unlink(item.path)
                    except FileNotFoundError:  # evicted or renamed by another process meanwhile
                        continue
        return found

    def _evict(self) -> None:
        """Delete least recently used entries until the folder holds <= 90% of max_bytes.

        Runs holding the shared size file's lock, so one process evicts at a time and the others' additions
        wait for the new total; a process that finds the total already back under the bound does nothing."""
        assert self.max_bytes is not None
        try:
            with self._size.locked() as fd:
                current = self._size.read(fd)
                if current is not None and current <= self.max_bytes:
                    return  # another writer evicted meanwhile
                total = self._evict_to_low_water()
                self._size.write(fd, total)
        except OSError as err:  # no usable size file: evict from the scan alone
            logger.warning("pair cache: size file %s unusable (%s); evicting from a scan", self._size.path, err)
            self._evict_to_low_water()

    def _evict_to_low_water(self) -> int:
        """Delete LRU entries down to 90% of max_bytes; returns the bytes left."""
        entries = sorted(self._scan())
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in entries:
            if total <= _LOW_WATER * self.max_bytes:
                break
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
            total -= size
        self._count(evictions=removed)
        logger.debug("pair cache: evicted %d entries, %d bytes left", removed, total)
        return total


def _listing(folder: Path) -> list[os.DirEntry]:
    """The entries of ``folder``; none when it vanished or cannot be read."""
    try:
        with os.scandir(folder) as items:
            return list(items)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def _layout_folders(folder: Path, pattern: re.Pattern) -> list[Path]:
    """The real (not symlinked) sub-folders of ``folder`` whose names match ``pattern``."""
    return [Path(item.path) for item in _listing(folder)
            if pattern.match(item.name) and item.is_dir(follow_symlinks=False)]
