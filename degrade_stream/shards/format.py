"""The shard format: file names, sample keys and members, and a tar writer whose bytes depend only on the
samples written to it.

Each sample of ``pairs-NNNNNN.tar`` holds ``<key>.gt.png`` (the HQ, 8-bit, cropped to a multiple of the
scale), ``<key>.lq.png`` (``<key>.lq_v<k>.png`` for ``--variants K``) and ``<key>.json`` (source file,
name, HQ size and fingerprint, and per LQ its variant, seed, t and chain params). WebDataset splits a
member name at the first dot of its last path component into key and extension
(webdataset/tariterators.py, ``base_plus_ext``), so the key is the pair's flat name with ``%`` and ``.``
escaped as ``%25`` and ``%2E``.

Reproducible tars: webdataset's ``TarWriter`` writes each sample's members in sorted order; here every
header has mtime 0, uid/gid 0, empty user and group names and mode 0444 (PAX format, Python's default,
whose extended headers appear only for long names and carry no time), so equal samples give equal bytes.
"""
from __future__ import annotations

import hashlib
import importlib
import re
from types import ModuleType
from typing import IO, Any

SHARD_GLOB = "pairs-*.tar"
SHARD_PATTERN = re.compile(r"^pairs-(\d{6})\.tar$")
GT_MEMBER = "gt.png"
JSON_MEMBER = "json"
INSTALL = 'pip install "degrade_stream[webdataset]"'


def webdataset() -> ModuleType:
    """The ``webdataset`` module, or an error that says how to install it."""
    try:
        return importlib.import_module("webdataset")
    except ImportError:
        raise ImportError(f"WebDataset shards need the webdataset package: {INSTALL}") from None


def shard_name(index: int) -> str:
    """``pairs-000000.tar`` for shard 0."""
    return f"pairs-{index:06d}.tar"


def escape_key(name: str) -> str:
    """A pair's flat name as a WebDataset key (no dots)."""
    return name.replace("%", "%25").replace(".", "%2E")


def unescape_key(key: str) -> str:
    """The flat name of a WebDataset key written by ``escape_key``."""
    return key.replace("%2E", ".").replace("%25", "%")


def lq_member(variant: int | None) -> str:
    """``lq.png``, or ``lq_v<k>.png`` for variant k."""
    return "lq.png" if variant is None else f"lq_v{variant}.png"


class HashingFile:
    """A write-only file wrapper that counts the bytes written and hashes them (SHA-256)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.size, self._digest = raw, 0, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def tar_writer(fileobj: Any) -> Any:
    """A webdataset ``TarWriter`` with fixed member headers (module docstring), writing raw bytes."""
    return webdataset().TarWriter(fileobj, user="", group="", mode=0o444, mtime=0, encoder=False)
