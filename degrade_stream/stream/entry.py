"""The pair-cache entry file: one lossless 8-bit LQ image with its identity and a checksum.

Layout (little-endian)::

    magic  b"DSLQ"  | version u16 (2) | dtype u8 (1: uint8) | reserved u8 (0) | identity length u16 | C, H, W u32 x3
    BLAKE2b-128 digest of (every header byte before it + identity + pixels)  (16 bytes)
    identity: UTF-8 JSON naming what the entry is (chain and model identity, seed, key, variant, HQ size
              and HQ content fingerprint: ``cache.PairCache``)
    pixels: C*H*W raw uint8, channel-major (exactly the LQ tensor, rounded to 8 bit)

The digest covers every byte that decides what is served -- magic, version, dtype, the shape, the
identity and the pixels -- so an entry whose header was altered (H and W swapped, another C) fails the
checksum and is recomputed, never served with a wrong shape. Version 1 entries (whose digest left the
header out) read as corrupt and are recomputed.

Raw uint8 rather than PNG: exact like PNG, but written and read with no encode/decode cost (the
pipelines round LQ to 8 bit anyway). A file is written to a unique temporary name in the same
folder and renamed into place (``atomic.write_bytes_atomic``), so readers and concurrent
writers -- threads, processes or DDP ranks -- only ever see a complete file; a truncated or
corrupted one (crash, bad disk) fails the length or checksum test and reads as ``None``.
"""
from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np

MAGIC = b"DSLQ"
VERSION = 2
DTYPE_UINT8 = 1
_HEADER = struct.Struct("<4sHBBHIII16s")
_DIGEST_SIZE = 16
_PERSON = b"ds-entry-v2"


class CorruptEntry(Exception):
    """An entry file exists but is truncated, corrupted or belongs to another identity."""


def _digest(header: bytes | memoryview, identity: bytes | memoryview, pixels: bytes | memoryview) -> bytes:
    """BLAKE2b-128 of the header bytes before the digest, the identity and the pixels."""
    h = hashlib.blake2b(header, digest_size=_DIGEST_SIZE, person=_PERSON)
    h.update(identity)
    h.update(pixels)
    return h.digest()


def encode_entry(identity: str, pixels: np.ndarray) -> bytes:
    """The file bytes for a (C, H, W) uint8 array."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3:
        raise ValueError(f"entry pixels must be a (C, H, W) uint8 array, got {pixels.dtype} {pixels.shape}")
    ident = identity.encode("utf-8")
    data = np.ascontiguousarray(pixels).tobytes()
    c, h, w = pixels.shape
    head = _HEADER.pack(MAGIC, VERSION, DTYPE_UINT8, 0, len(ident), c, h, w, bytes(_DIGEST_SIZE))[:-_DIGEST_SIZE]
    return head + _digest(head, ident, data) + ident + data


def decode_entry(blob: bytes, identity: str) -> np.ndarray:
    """The (C, H, W) uint8 array of an entry; CorruptEntry if anything does not check out."""
    if len(blob) < _HEADER.size:
        raise CorruptEntry(f"truncated header ({len(blob)} bytes)")
    magic, version, dtype, reserved, ident_len, c, h, w, digest = _HEADER.unpack_from(blob)
    if magic != MAGIC or version != VERSION:
        raise CorruptEntry(f"bad magic/version {magic!r}/{version}")
    start = _HEADER.size + ident_len
    if len(blob) != start + c * h * w:
        raise CorruptEntry(f"size {len(blob)} != expected {start + c * h * w}")
    view = memoryview(blob)
    if _digest(view[:_HEADER.size - _DIGEST_SIZE], view[_HEADER.size:start], view[start:]) != digest:
        raise CorruptEntry("checksum mismatch (header, identity or pixels altered)")
    if dtype != DTYPE_UINT8 or reserved != 0:
        raise CorruptEntry(f"unknown pixel type {dtype}/{reserved}")
    if blob[_HEADER.size:start] != identity.encode("utf-8"):
        raise CorruptEntry("entry belongs to another sample (hash collision or moved file)")
    return np.frombuffer(blob, dtype=np.uint8, count=c * h * w, offset=start).reshape(c, h, w)


def read_entry(path: Path, identity: str) -> np.ndarray | None:
    """The entry's pixels; None if absent. Raises CorruptEntry if present but broken."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except FileNotFoundError:
        return None
    return decode_entry(blob, identity)
