"""Pair rows (rows.PairRows' output) into WebDataset tar shards byte-identical to ``synthesize --format
webdataset``'s for the same inputs, seed, variants and shard size.

``synthesize`` orders the images by cropped HQ size, then name (offline/pair_plan.py), cuts them into shards of
``shard_size`` images and writes each image as one sample (cli/shard_writer.py) through
``degrade_stream.shards`` (``pair_sample``, ``write_shard``). Rows sorted by (height, width, name, variant),
e.g. ``dataset.sort(["height", "width", "name", "variant"])`` in Ray Data, give the same order, so the same
samples fall into the same shards. Inputs that synthesize skips while planning (unreadable header, too small)
are left out of the order by both; a file whose header reads but whose pixels do not is the exception:
synthesize counts it in its shard's images, so later shard boundaries may differ.
"""
from __future__ import annotations

import json
import os
from itertools import chain, islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..shards import ShardFile, lq_member, pair_sample, shard_name, write_shard

_IMAGE_FIELDS = ("source", "name", "hq_size", "hq_sha256", "hq_bytes")


def shard_samples(rows: Iterable[Mapping[str, Any]], skipped: dict[str, str]) -> Iterator[dict[str, Any]]:
    """One WebDataset sample per image from pair rows with PNG bytes (``png=True``), sorted so that an image's
    variants are adjacent; rows of skipped files go to ``skipped`` (key -> reason) instead."""
    pending: list[Mapping[str, Any]] = []
    for row in rows:
        if row["skipped"]:
            skipped[str(row["key"])] = str(row["skipped"])
            continue
        if pending and pending[0]["key"] != row["key"]:
            yield _sample(pending)
            pending = []
        pending.append(row)
    if pending:
        yield _sample(pending)


def _sample(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The sample of one image from its rows (one per variant), as cli/shard_writer.py builds it."""
    records = [json.loads(row["json"]) for row in rows]
    info: dict[str, Any] = {k: records[0][k] for k in _IMAGE_FIELDS if k in records[0]}
    info["lq"] = {lq_member(r["variant"]): {k: r[k] for k in ("variant", "seed", "t", "params")} for r in records}
    if not isinstance(rows[0]["gt"], bytes):
        raise TypeError("shard rows need PNG bytes: make the pairs with png=True")
    return pair_sample(str(rows[0]["name"]), rows[0]["gt"], {r["variant"]: row["lq"] for r, row in zip(records, rows)},
                       info)


def write_row_shards(rows: Iterable[Mapping[str, Any]], out: str | os.PathLike,
                     shard_size: int) -> tuple[list[ShardFile], dict[str, str]]:
    """Write the samples of ``rows`` (sorted, module docstring) into ``out``/pairs-NNNNNN.tar, ``shard_size``
    images each, each shard atomically; returns the shards and the skipped files (key -> reason)."""
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise ValueError(f"shard_size must be an integer >= 1, got {shard_size!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    skipped: dict[str, str] = {}
    samples = shard_samples(rows, skipped)
    shards: list[ShardFile] = []
    first = next(samples, None)
    while first is not None:
        shards.append(write_shard(out / shard_name(len(shards)), chain([first], islice(samples, shard_size - 1))))
        first = next(samples, None)
    return shards, skipped

