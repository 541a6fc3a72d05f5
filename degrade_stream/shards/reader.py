"""Reading pair shards back: the samples themselves, a PairStream loader, and a pairs folder view.

- ``read_pair_samples(folder)``: (key, info, gt bytes, {variant: lq bytes}) per sample, in shard order,
  through ``wds.WebDataset``.
- ``gt_loader(shards, batch_size)``: the recipe of docs/python.md, "Streaming and the pair cache": a
  ``wds.WebDataset`` pipeline yielding ``{"gt", "key"}`` batches for ``PairStream``, ``__key__`` being each
  sample's key.
- ``pairs_folder(path)``: where evaluate and compare-chains take a pairs folder (``gt/``, ``lq/``), a shard
  folder is extracted to a temporary one in the folder layout of ``synthesize`` (per-variant GT names as
  hard links) for the length of a ``with`` block; any other path is passed through unchanged.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from .format import GT_MEMBER, JSON_MEMBER, SHARD_GLOB, unescape_key, webdataset

_LQ_PREFIX = "lq"


def shard_paths(folder: str | os.PathLike) -> list[Path]:
    """The ``pairs-*.tar`` shards of a folder, in order; an error naming the folder when there are none."""
    folder = Path(folder)
    paths = sorted(folder.glob(SHARD_GLOB)) if folder.is_dir() else []
    if not paths:
        raise FileNotFoundError(f"{folder}: no WebDataset shards ({SHARD_GLOB})")
    return paths


def is_shard_folder(path: str | os.PathLike) -> bool:
    """A folder holding ``pairs-*.tar`` shards and no gt/ or lq/ folder."""
    path = Path(path)
    return (path.is_dir() and not (path / "gt").is_dir() and not (path / "lq").is_dir()
            and any(path.glob(SHARD_GLOB)))


def _variant(extension: str) -> int | None | bool:
    """The variant of an LQ member extension (``lq.png`` -> None, ``lq_v3.png`` -> 3); False otherwise."""
    if extension == f"{_LQ_PREFIX}.png":
        return None
    if extension.startswith(f"{_LQ_PREFIX}_v") and extension.endswith(".png") and extension[4:-4].isdigit():
        return int(extension[4:-4])
    return False


def read_pair_samples(folder: str | os.PathLike) -> Iterator[tuple[str, dict[str, Any], bytes, dict]]:
    """(key, json info, gt PNG bytes, {variant: lq PNG bytes}) of every sample, shard by shard."""
    wds = webdataset()
    urls = [str(p) for p in shard_paths(folder)]
    for sample in wds.WebDataset(urls, shardshuffle=False, empty_check=False):
        lq = {v: data for ext, data in sample.items() if (v := _variant(ext)) is not False}
        if GT_MEMBER not in sample or not lq:
            raise ValueError(f"{sample.get('__url__', folder)}: sample {sample['__key__']!r} lacks "
                             f"{GT_MEMBER} or an lq PNG; not a pair shard written by synthesize")
        info = json.loads(sample[JSON_MEMBER]) if JSON_MEMBER in sample else {}
        yield sample["__key__"], info, sample[GT_MEMBER], lq


def _decode_gt(sample: dict[str, Any]) -> dict[str, Any]:
    """A shard sample -> {"gt": (3, H, W) uint8 tensor, "key": __key__} for PairStream."""
    from PIL import Image
    import io

    with Image.open(io.BytesIO(sample[GT_MEMBER])) as image:
        pixels = np.asarray(image.convert("RGB"))
    return {"gt": torch.from_numpy(pixels.transpose(2, 0, 1).copy()), "key": sample["__key__"]}


def _collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    return {"gt": torch.stack([s["gt"] for s in samples]), "key": [s["key"] for s in samples]}


def gt_loader(shards: str | os.PathLike | list[str], batch_size: int, shuffle: int = 0) -> Any:
    """A ``wds.WebDataset`` pipeline of {"gt": (B, 3, H, W) uint8, "key": [__key__, ...]} batches, a loader
    for ``PairStream`` (the GT images of a batch must share a size: crop them, or use batch_size 1)."""
    wds = webdataset()
    urls = [str(p) for p in shard_paths(shards)] if not isinstance(shards, list) else shards
    pipeline = wds.WebDataset(urls, shardshuffle=False, empty_check=False)
    if shuffle:
        pipeline = pipeline.shuffle(shuffle)
    return pipeline.map(_decode_gt).batched(batch_size, collation_fn=_collate, partial=True)


def extract_pairs(folder: str | os.PathLike, dest: Path) -> int:
    """Write the shards' pairs into ``dest`` as gt/<name>.png + lq/<name>.png (``_v<k>`` with variants,
    one GT file hard-linked per variant); returns how many pairs."""
    (dest / "gt").mkdir(parents=True)
    (dest / "lq").mkdir()
    count = 0
    for key, info, gt, lq in read_pair_samples(folder):
        name = str(info.get("name") or unescape_key(key))
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"{folder}: sample {key!r} has an unusable name {name!r}")
        first: Path | None = None
        for variant, data in sorted(lq.items(), key=lambda item: -1 if item[0] is None else item[0]):
            stem = name if variant is None else f"{name}_v{variant}"
            (dest / "lq" / f"{stem}.png").write_bytes(data)
            if first is None:
                first = dest / "gt" / f"{stem}.png"
                first.write_bytes(gt)
            else:
                try:
                    os.link(first, dest / "gt" / f"{stem}.png")
                except OSError:
                    shutil.copyfile(first, dest / "gt" / f"{stem}.png")
            count += 1
    return count


@contextmanager
def pairs_folder(path: str | os.PathLike) -> Iterator[Path]:
    """``path`` itself, or for a shard folder a temporary pairs folder extracted from it (removed after)."""
    if not is_shard_folder(path):
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix=f"{Path(path).name}-shards-") as tmp:
        dest = Path(tmp) / Path(path).name
        extract_pairs(path, dest)
        yield dest
