"""The content fingerprint of an input file, recorded with every pair so a rerun knows when an input changed.

A fingerprint is the SHA-256 of the file's bytes and its size. ``synthesize`` records both in each pair's
record (``hq_sha256``, ``hq_bytes``); on a rerun a pair counts as present only when the input file it was
made from still has that fingerprint, so an HQ replaced under the same name (new content, or new size) is
redone rather than left stale. Reading every input once per rerun is the cost (measured in
benchmarks/RESULTS.md, "Pair integrity").
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, Mapping

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Fingerprint:
    """SHA-256 (hex) and byte size of one file."""

    sha256: str
    size: int

    def as_record(self) -> dict[str, Any]:
        """The fields stored in a pair record."""
        return {"hq_sha256": self.sha256, "hq_bytes": self.size}

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` was made from a file with this fingerprint (False for records without one,
        written before fingerprints were recorded: those pairs are redone once)."""
        return record.get("hq_sha256") == self.sha256 and record.get("hq_bytes") == self.size


def file_fingerprint(path: str | os.PathLike) -> Fingerprint:
    """The fingerprint of the file at ``path`` (read once, in 1 MiB chunks)."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Fingerprint(digest.hexdigest(), size)
