"""Writing one pair shard: samples in, a reproducible tar renamed into place, its size and SHA-256 out.

``synthesize --format webdataset`` writes its shards with these functions, and so can any other producer of
pairs (a Ray Data pipeline, say) that wants the same format: build each sample with ``pair_sample`` from PNG
bytes (``io.encode_png``, the encoder of the folder layout's files) and hand an iterable of them to
``write_shard``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..atomic import atomic_target
from .format import GT_MEMBER, JSON_MEMBER, HashingFile, escape_key, lq_member, tar_writer


@dataclass(frozen=True)
class ShardFile:
    """A shard written in place: its path, byte size, SHA-256 (hex) and sample count."""

    path: Path
    size: int
    sha256: str
    samples: int


def pair_sample(name: str, gt_png: bytes, lq_pngs: Mapping[int | None, bytes], info: Mapping[str, Any]) -> dict:
    """One WebDataset sample: ``__key__`` (``name`` escaped), ``gt.png``, ``lq.png`` or ``lq_v<k>.png`` per
    variant, and ``json`` (``info``, serialised with sorted keys)."""
    if not lq_pngs:
        raise ValueError(f"sample {name!r}: no LQ image")
    sample: dict[str, Any] = {"__key__": escape_key(name), GT_MEMBER: gt_png}
    for variant, data in lq_pngs.items():
        sample[lq_member(variant)] = data
    sample[JSON_MEMBER] = json.dumps(info, sort_keys=True).encode("utf-8")
    return sample


def write_shard(path: str | os.PathLike, samples: Iterable[dict]) -> ShardFile:
    """Write ``samples`` (in the order given) into the tar ``path`` through a temp file renamed into place:
    an interrupted write leaves no file at ``path`` (and whatever was there stays)."""
    path = Path(path)
    count = 0
    with atomic_target(path) as tmp, open(tmp, "wb") as raw:
        sink = HashingFile(raw)
        with tar_writer(sink) as tar:
            for sample in samples:
                tar.write(sample)
                count += 1
    return ShardFile(path=path, size=sink.size, sha256=sink.hexdigest(), samples=count)
