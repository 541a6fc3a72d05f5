"""``synthesize --format webdataset``: the pairs as WebDataset tar shards (format: ``shards/format.py``).

Which image goes into which shard depends only on the inputs: the images are taken in the plan's order
(size, then name: ``pair_plan.py``) and cut into shards of ``--shard-size`` images, each sample holding the
GT and every LQ variant of one image. Processes (``--shard`` or torchrun ranks) take whole tar shards
round-robin. Each shard's LQ are computed in the plan's batches, the very batches the folder writer runs
(a batch at a shard's edge is run whole by each shard that has images in it), so a shard's LQ bytes equal
the folder layout's for the same --batch-size, whatever the process count; for the handcrafted chains,
which are exactly batch-independent (docs/python.md, "The core contract"), for any --batch-size too.

A shard is written to a temp name and renamed into place, then recorded (``.parts/``, merged into
``shards.jsonl``) with the fingerprint of each of its inputs, its size and SHA-256. On a rerun a shard is
kept when it is in place, of the recorded size, and made from inputs with the recorded fingerprints;
otherwise (killed mid-write, an input changed, the image list shifted) it is rewritten whole.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator

import torch
from torch import Tensor

from ..atomic import write_text_atomic
from ..core.chain import Chain
from ..io import encode_png
from ..shards.format import SHARD_GLOB, SHARD_PATTERN, lq_member, shard_name
from ..shards.writer import pair_sample, write_shard
from ..offline.fingerprint import Fingerprint, file_fingerprint
from .output_folder import PARTS_DIR, SHARDS_FILE, locked, read_jsonl, read_skipped, write_skipped
from ..offline.pair_plan import PairPlan, PairUnit
from ..offline.pair_record import load_batch, lq_record, run_chain


@dataclass(frozen=True)
class ShardSpec:
    """Tar shard ``index``: its images (source keys, in order) and the plan batches that compute them."""

    index: int
    images: tuple[str, ...]
    batches: tuple[int, ...]

    @property
    def name(self) -> str:
        return shard_name(self.index)


def plan_shards(plan: PairPlan, shard_size: int) -> list[ShardSpec]:
    """Cut the plan's images (in plan order) into shards of ``shard_size`` images."""
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise ValueError(f"--shard-size must be an integer >= 1, got {shard_size!r}")
    order: dict[str, set[int]] = {}
    for j, batch in enumerate(plan.batches):
        for unit in batch:
            order.setdefault(unit.key, set()).add(j)
    keys = list(order)
    specs = []
    for index, start in enumerate(range(0, len(keys), shard_size)):
        images = tuple(keys[start:start + shard_size])
        specs.append(ShardSpec(index, images, tuple(sorted(set().union(*(order[k] for k in images))))))
    return specs


class ShardWriter:
    """One process's pass over its tar shards: what is present, what to (re)write, the records it appends."""

    def __init__(self, chain: Chain, plan: PairPlan, seed: int, device: torch.device, out: Path,
                 pool: ThreadPoolExecutor, records: IO[str], done: dict[str, dict[str, Any]]) -> None:
        self.chain, self.plan, self.seed, self.device, self.out = chain, plan, seed, device, out
        self.pool, self.records, self.done = pool, records, done
        self.written = self.present = 0
        self.skipped: dict[str, str] = {}
        self.redone: set[str] = set()

    def skip(self, key: str, reason: str) -> None:
        """List ``key`` as skipped (a file the plan found unusable)."""
        self.skipped[key] = reason
        self.records.write(json.dumps({"kind": "skipped", "source": key, "reason": reason}) + "\n")

    def shard(self, spec: ShardSpec) -> int:
        """Keep or (re)write one tar shard; returns how many pairs it holds."""
        prints, unreadable = self._fingerprints(spec)
        inputs = [{"source": k, **prints[k].as_record()} if k in prints else {"source": k, "unreadable": True}
                  for k in spec.images]
        record = self.done.get(spec.name)
        path = self.out / spec.name
        if record is not None and record.get("inputs") == inputs and path.is_file() \
                and path.stat().st_size == record.get("bytes"):
            self.skipped.update(record.get("skipped", {}))
            self.present += int(record.get("pairs", 0))
            return int(record.get("pairs", 0))
        if record is not None:
            old = {i["source"]: i for i in record.get("inputs", [])}
            self.redone.update(i["source"] for i in inputs if i["source"] in old and old[i["source"]] != i)
        skipped = dict(unreadable)
        pairs = [0]
        written = write_shard(path, self._samples(spec, prints, skipped, pairs))
        record = {"kind": "shard", "shard": spec.name, "inputs": inputs, "pairs": pairs[0], "skipped": skipped,
                  "bytes": written.size, "sha256": written.sha256}
        self.records.write(json.dumps(record, sort_keys=True) + "\n")
        self.records.flush()
        self.done[spec.name] = record
        self.skipped.update(skipped)
        self.written += pairs[0]
        return pairs[0]

    def _fingerprints(self, spec: ShardSpec) -> tuple[dict[str, Fingerprint], dict[str, str]]:
        """Fingerprints of the shard's inputs, and the inputs that cannot be read (key -> reason)."""
        def fingerprint(key: str) -> Fingerprint | OSError:
            try:
                return file_fingerprint(self.plan.sources[key])
            except OSError as err:
                return err

        prints, unreadable = {}, {}
        for key, found in zip(spec.images, self.pool.map(fingerprint, spec.images)):
            if isinstance(found, OSError):
                unreadable[key] = f"cannot read the file: {found.strerror or found}"
            else:
                prints[key] = found
        return prints, unreadable

    def _samples(self, spec: ShardSpec, prints: dict[str, Fingerprint], skipped: dict[str, str],
                 pairs: list[int]) -> Iterator[dict[str, Any]]:
        """Compute the shard's batches in order; yield each image's sample once all its LQ are made (adding
        its pair count to ``pairs[0]``)."""
        pending = [k for k in spec.images if k in prints]
        units: dict[str, list[PairUnit]] = {k: [] for k in pending}
        for j in spec.batches:
            for unit in self.plan.batches[j]:
                if unit.key in units:
                    units[unit.key].append(unit)
        made: dict[PairUnit, dict[str, Any]] = {}
        hq: dict[str, Tensor] = {}
        for j in spec.batches:
            batch = self.plan.batches[j]
            loaded = load_batch(batch, self.plan, self.pool)
            for key in [k for k in pending if k in loaded and not isinstance(loaded[k], Tensor)]:
                skipped[key] = str(loaded[key])
                pending.remove(key)
            ok = [u for u in batch if isinstance(loaded[u.key], Tensor)]
            if ok:
                lq, params, seeds = run_chain(self.chain, ok, loaded, self.seed, self.device)
                for i, unit in enumerate(ok):
                    if unit.key in units:
                        made[unit] = {"lq": lq[i], **lq_record(params, seeds, i)}
                        hq[unit.key] = loaded[unit.key]
            while pending and all(u in made for u in units[pending[0]]):
                key = pending.pop(0)
                pairs[0] += len(units[key])
                yield self._sample(key, units[key], hq.pop(key), made, prints[key])

    @staticmethod
    def _sample(key: str, units: list[PairUnit], hq: Tensor, made: dict[PairUnit, dict[str, Any]],
                fingerprint: Fingerprint) -> dict[str, Any]:
        """One image's sample: GT and LQ PNGs and the JSON record of the image and its LQ."""
        first = units[0]
        info: dict[str, Any] = {"source": key, "name": first.name, "hq_size": [first.height, first.width],
                                **fingerprint.as_record(), "lq": {}}
        lq_pngs = {}
        for unit in units:
            result = made.pop(unit)
            lq_pngs[unit.variant] = encode_png(result.pop("lq"))
            info["lq"][lq_member(unit.variant)] = {"variant": unit.variant, **result}
        return pair_sample(first.name, encode_png(hq), lq_pngs, info)

def shard_records(out: Path) -> dict[str, dict[str, Any]]:
    """The latest record of each tar shard (shards.jsonl, then the processes' part files)."""
    records = read_jsonl(out / SHARDS_FILE)
    for part in sorted((out / PARTS_DIR).glob("*.jsonl")):
        records.extend(r for r in read_jsonl(part) if r.get("kind") == "shard")
    return {str(r["shard"]): {k: v for k, v in r.items() if k != "kind"} for r in records
            if SHARD_PATTERN.match(str(r.get("shard", "")))}


def merge_shard_records(out: Path, own_part: Path | None, count: int) -> tuple[int, dict[str, str]]:
    """Fold the records into shards.jsonl (shards in place, of their recorded size) and skipped.txt; delete
    shards numbered ``count`` or more (left by an earlier run over more inputs). Returns (pairs, skipped)."""
    with locked(out):
        records = shard_records(out)
        for path in out.glob(SHARD_GLOB):
            match = SHARD_PATTERN.match(path.name)
            if match and int(match.group(1)) >= count:
                path.unlink(missing_ok=True)
        current = [r for name, r in sorted(records.items()) if int(SHARD_PATTERN.match(name).group(1)) < count
                   and (out / name).is_file() and (out / name).stat().st_size == r.get("bytes")]
        skipped = read_skipped(out)
        for part in sorted((out / PARTS_DIR).glob("*.jsonl")):
            skipped.update({r["source"]: r["reason"] for r in read_jsonl(part) if r.get("kind") == "skipped"})
        for record in current:
            skipped.update(record.get("skipped", {}))
        written = {i["source"] for r in current for i in r.get("inputs", []) if i["source"] not in r.get("skipped", {})
                   and not i.get("unreadable")}
        skipped = {k: v for k, v in sorted(skipped.items()) if k not in written}
        write_text_atomic(out / SHARDS_FILE, "".join(json.dumps(r, sort_keys=True) + "\n" for r in current))
        write_skipped(out, skipped)
        if own_part is not None:
            own_part.unlink(missing_ok=True)
    return sum(int(r.get("pairs", 0)) for r in current), skipped
