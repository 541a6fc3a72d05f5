"""(HQ, LQ) pairs from table rows, seeded and cropped exactly as ``degrade-stream synthesize`` does.

A batch is a dict of columns (Ray Data's numpy batch format, or plain lists): the image as ``bytes``
(the file's contents, decoded by ``degrade_stream.io`` as synthesize reads files) or as ``image`` (an
8-bit (H, W, 3) RGB array, e.g. from ``ray.data.read_images(..., mode="RGB")``), and the key as ``key``,
or as ``path`` made relative to ``root``: synthesize's key is the path relative to ``--hq``. Pair seeds
come from ``stream.seeds.sample_seeds`` through the offline writer's rule (cli/pair_writer.py), and
rows of equal size are degraded together. The handcrafted chains give the same bits in any batch
(docs/python.md, "The core contract"), so each LQ equals synthesize's whatever the rows' grouping; a
``ddpm_refine`` stage may flip a rare 8-bit level when the grouping differs.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from ..offline.fingerprint import Fingerprint
from ..offline.pair_record import lq_record, unit_seeds
from ..offline.pair_plan import MAX_VARIANTS, PairUnit
from ..core.config import load_chain, resolve_config
from ..core.device import resolve_device
from ..core.params import params_to
from ..core.quantize import quantize8
from ..io import decode_image, encode_png, flat_name, to_uint8
from ..stream.crop import scale_multiple

#: Columns of every output row (one row per pair: K rows per input row with ``variants=K``).
OUTPUT_COLUMNS = ("key", "name", "variant", "seed", "height", "width", "gt", "lq", "json", "skipped")
_INT_COLUMNS = ("variant", "seed", "height", "width")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_EMPTY = np.zeros((0, 0, 3), dtype=np.uint8)


def strip_scheme(uri: str) -> str:
    """A URI as Ray Data reports its paths: ``s3://bucket/x`` -> ``bucket/x``, ``local:///a`` -> ``/a``."""
    return _SCHEME.sub("", str(uri))


def row_key(path: str, root: str) -> str:
    """synthesize's key of the file at ``path`` read from the folder ``root``: the relative path, '/'-joined."""
    relative = PurePosixPath(strip_scheme(path).replace(os.sep, "/"))
    base = PurePosixPath(strip_scheme(root).replace(os.sep, "/"))
    try:
        return relative.relative_to(base).as_posix()
    except ValueError:
        raise ValueError(f"row path {path} is not under root {root}: give the folder the rows were read from "
                         "(as Ray reports paths: absolute for a local folder, bucket/prefix for s3://)") from None


def _column(batch: Mapping[str, Any], names: Sequence[str], what: str) -> tuple[str, Sequence[Any]]:
    for name in names:
        if name in batch:
            return name, batch[name]
    raise KeyError(f"a batch needs a {what} column ({' or '.join(names)}); it has {sorted(batch)}")


def _hq_of(kind: str, value: Any, key: str) -> Tensor:
    """The (3, H, W) float HQ of one row, decoded as synthesize decodes the file."""
    if kind == "bytes":
        return decode_image(bytes(value), key)
    array = np.asarray(value)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"cannot read image {key}: the image column must hold 8-bit (H, W, 3) RGB arrays, got "
                         f"{array.dtype} {array.shape} (read with ray.data.read_images(..., mode='RGB'), or "
                         "read_binary_files for 16-bit files)")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))).float() / 255.0


@dataclass
class _Row:
    key: str
    hq: Tensor | None
    reason: str = ""
    fingerprint: dict[str, Any] = field(default_factory=dict)  # hq_sha256, hq_bytes of the file's bytes


class PairRows:
    """Callable on a batch of rows -> a batch of pairs (columns ``OUTPUT_COLUMNS``); loads the chain once.

    ``gt`` is the HQ cropped to a multiple of the chain's scale (``height`` x ``width``) and ``lq`` the LQ,
    both 8-bit (H, W, 3) arrays; ``name`` is the flat name synthesize gives the pair (lq/<name>.png, or
    lq/<name>_v<k>.png for variant k); ``json`` is the pair's record in synthesize's pairs.jsonl, less the
    file paths (name, variant, source, seed, t, params, hq_size, and with a ``bytes`` column the file's
    hq_sha256 and hq_bytes); ``variant`` is -1 with one variant. With ``png=True``, ``gt`` and ``lq`` are
    instead the bytes of the PNG files synthesize writes (encoded in the worker). A row that synthesize
    would skip (unreadable, too small) gives one row with empty images, size 0 and the reason in ``skipped``.
    """

    def __init__(self, config: str | os.PathLike | Mapping[str, Any], seed: int = 0, root: str | None = None,
                 variants: int = 1, batch_size: int = 8, device: str | None = None, threads: int | None = None,
                 png: bool = False):
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        if isinstance(variants, bool) or not isinstance(variants, int) or not 1 <= variants <= MAX_VARIANTS:
            raise ValueError(f"variants must be an integer in [1, {MAX_VARIANTS}], got {variants!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if threads is not None:
            torch.set_num_threads(threads)
        self.chain = load_chain(resolve_config(config, "chains"))
        self.device = resolve_device(device)
        self.chain.to(self.device)
        self.min_side = self.chain.min_input_side
        self.seed, self.root, self.variants, self.batch_size, self.png = seed, root, variants, batch_size, png

    def _rows(self, batch: Mapping[str, Any]) -> list[_Row]:
        key_kind, key_values = _column(batch, ("key", "path"), "key")
        kind, images = _column(batch, ("bytes", "image"), "image")
        if key_kind == "path" and self.root is None:
            raise ValueError("rows carry paths: give root= (the folder they were read from) so that keys are "
                             "relative to it, as synthesize's are to --hq; or give a key column")
        rows = []
        for value, raw in zip(images, key_values):
            key = row_key(str(raw), self.root) if key_kind == "path" else str(raw)
            fingerprint = {}
            if kind == "bytes":  # what synthesize records of the file (offline/fingerprint.py)
                fingerprint = Fingerprint(hashlib.sha256(bytes(value)).hexdigest(), len(value)).as_record()
            try:
                hq = _hq_of(kind, value, key)
            except ValueError as err:
                rows.append(_Row(key, None, str(err)))
                continue
            height, width = scale_multiple(hq.shape[1], hq.shape[2], self.chain.scale)
            if min(height, width) < max(self.min_side, 1):
                rows.append(_Row(key, None, f"too small: {width}x{height} px after cropping to a multiple of the "
                                            f"scale {self.chain.scale}; this chain needs at least "
                                            f"{self.min_side}x{self.min_side} px"))
                continue
            rows.append(_Row(key, quantize8(hq[:, :height, :width]), fingerprint=fingerprint))
        return rows

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        rows = self._rows(batch)
        out: dict[str, list[Any]] = {c: [] for c in OUTPUT_COLUMNS}
        groups: dict[tuple[int, int], list[tuple[PairUnit, _Row]]] = defaultdict(list)
        for row in rows:
            if row.hq is None:
                empty = b"" if self.png else _EMPTY
                _emit(out, key=row.key, name=flat_name(row.key), variant=-1, seed=0, height=0, width=0, gt=empty,
                      lq=empty, json="", skipped=row.reason)
                continue
            for k in range(self.variants):
                unit = PairUnit(row.key, flat_name(row.key), None if self.variants == 1 else k, *row.hq.shape[1:])
                groups[tuple(row.hq.shape[1:])].append((unit, row))
        for size in sorted(groups):
            members = sorted(groups[size], key=lambda m: (m[0].name, m[0].variant or 0))
            for start in range(0, len(members), self.batch_size):
                self._degrade(members[start:start + self.batch_size], out)
        return {c: (np.array(v, dtype=np.int64) if c in _INT_COLUMNS else v) for c, v in out.items()}

    def _degrade(self, members: list[tuple[PairUnit, _Row]], out: dict[str, list[Any]]) -> None:
        """Run the chain on one group of equal-size pairs and append their output rows."""
        units = [u for u, _ in members]
        hq = torch.stack([row.hq for _, row in members])
        seeds = unit_seeds(units, self.seed)
        try:
            result = self.chain(hq.to(self.device), seed=seeds)
        except ValueError as err:  # name the inputs, as synthesize does
            raise ValueError(f"degrading {', '.join(sorted({u.key for u in units}))} "
                             f"({hq.shape[-1]}x{hq.shape[-2]} px): {err}") from None
        lq, params = result.lq.cpu(), params_to(result.params, "cpu")
        for i, (unit, row) in enumerate(members):
            record = {"name": unit.name, "variant": unit.variant, "source": unit.key, **lq_record(params, seeds, i),
                      "hq_size": [unit.height, unit.width], **row.fingerprint}
            gt_i, lq_i = (encode_png(hq[i]), encode_png(lq[i])) if self.png else (to_uint8(hq[i]), to_uint8(lq[i]))
            _emit(out, key=unit.key, name=unit.name, variant=-1 if unit.variant is None else unit.variant,
                  seed=int(seeds[i]), height=unit.height, width=unit.width, gt=gt_i, lq=lq_i,
                  json=json.dumps(record, sort_keys=True), skipped="")


def _emit(out: dict[str, list[Any]], **values: Any) -> None:
    """Append one output row (a value for every column of ``OUTPUT_COLUMNS``)."""
    for column in OUTPUT_COLUMNS:
        out[column].append(values[column])
