"""Offline (HQ, LQ) pair writer behind ``degrade-stream synthesize`` (also used by sweep and demo).

Seeds, batches and records: ``pair_record.py`` (offline pairs equal streamed ones). Every file is written
atomically and recorded only once complete, with the fingerprint of its input (``fingerprint.py``), so a
killed run resumes where it stopped, a rerun writes the same bytes, and an input changed since its pairs
were written (content or size) is redone: a pair is never kept stale. ``--format webdataset`` writes tar
shards instead (``shard_writer.py``).
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Mapping

import torch
from torch import Tensor
from tqdm import tqdm

from .. import __version__
from ..core.chain import Chain
from ..core.config import load_chain, resolve_config
from ..core.device import resolve_device
from ..core.seed_domain import canonical_seed
from ..shards.format import webdataset
from ..offline.fingerprint import Fingerprint, file_fingerprint
from .output_folder import (PARTS_DIR, finished_pairs, merge_records, prepare_output, remove_stale_temp_files,
                            retract_pairs)
from .pair_files import gt_relpath, lq_relpath, write_batch_files
from ..offline.pair_record import load_batch, lq_record, run_chain
from ..offline.pair_plan import PairPlan, PairUnit, plan_pairs
from .shard_writer import ShardWriter, merge_shard_records, plan_shards, shard_records
from .sharding import Shard, barrier, sum_over_shards

FORMATS = ("folder", "webdataset")
DEFAULT_SHARD_SIZE = 1000  # images per tar shard

@dataclass
class SynthesisSummary:
    """What a run did (summed over shards under torchrun)."""

    out: Path
    planned: int
    written: int
    present: int
    skipped: int = 0
    reasons: dict[str, str] = field(default_factory=dict)  # this process's skipped files: key -> reason
    seconds: float = 0.0
    redone: int = 0  # inputs whose pairs were rewritten because the file changed since (among ``written``)
    redone_keys: set[str] = field(default_factory=set)  # this process's redone inputs

    def line(self) -> str:
        redone = f" ({self.redone} inputs changed since their pairs were written: redone)" if self.redone else ""
        text = (f"{self.written} pairs written{redone}, {self.present} already present, "
                f"{self.skipped} files skipped, in {self.seconds:.1f} s -> {self.out}")
        if self.skipped:
            text += f" (reasons in {self.out / 'skipped.txt'})"
        return text


def synthesize_pairs(config: str | os.PathLike | Mapping[str, Any], hq_dir: str | os.PathLike,
                     out_dir: str | os.PathLike, seed: int = 0, variants: int = 1, batch_size: int = 8,
                     device: str | None = None, shard: Shard = Shard(), progress: bool = True,
                     format: str = "folder", shard_size: int = DEFAULT_SHARD_SIZE) -> SynthesisSummary:
    """Write every (HQ, LQ) pair of ``hq_dir`` degraded by ``config`` into ``out_dir`` (resumable), as
    gt/ + lq/ PNG folders (``format="folder"``) or WebDataset tar shards (``"webdataset"``)."""
    started = time.perf_counter()
    chain_config = resolve_config(config, "chains") if not isinstance(config, Mapping) else dict(config)
    chain = load_chain(chain_config)
    out = Path(out_dir)
    seed = canonical_seed(seed, "--seed")  # any integer, reduced modulo 2**64 (core/seed_domain.py)
    if format not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    plan: PairPlan = plan_pairs(hq_dir, chain.scale, variants, batch_size, min_side=chain.min_input_side,
                                out_dir=out)
    run_info = {"config_hash": chain.config_hash(), "seed": int(seed), "variants": int(variants),
                "scale": chain.scale, "degrade_stream": __version__}
    if format == "webdataset":
        try:
            webdataset()
        except ImportError as err:  # before anything is written
            raise ValueError(f"--format webdataset: {err}") from None
        specs = plan_shards(plan, shard_size)
        run_info.update(format=format, shard_size=shard_size)
    target = resolve_device(device)
    chain.to(target)
    prepare_output(out, run_info, chain.to_config(), folders=("gt", "lq") if format == "folder" else ())
    remove_stale_temp_files(out)
    own_part = out / PARTS_DIR / f"shard-{shard.index}-of-{shard.count}.jsonl"
    with open(own_part, "a", encoding="utf-8") as records, ThreadPoolExecutor(max_workers=4) as pool:
        if format == "folder":
            writer: _Writer | ShardWriter = _Writer(chain, plan, int(seed), target, out, pool, records,
                                                    finished_pairs(out))
            work = [(writer.batch, b, len(b)) for j, b in enumerate(plan.batches) if shard.owns(j)]
        else:
            writer = ShardWriter(chain, plan, int(seed), target, out, pool, records, shard_records(out))
            work = [(writer.shard, s, sum(len(plan.batches[j]) for j in s.batches)) for s in specs
                    if shard.owns(s.index)]
        _work_through(writer, work, plan.skipped if shard.is_main else {}, progress and shard.is_main)
    barrier(shard)
    if not (shard.group and not shard.is_main):  # under torchrun rank 0 merges for everyone
        merge_records(out, own_part) if format == "folder" else merge_shard_records(out, own_part, len(specs))
    if shard.group and shard.is_main:
        for other in (out / PARTS_DIR).glob(f"shard-*-of-{shard.count}.jsonl"):
            other.unlink(missing_ok=True)
    counts = sum_over_shards(shard, [writer.written, writer.present, len(writer.skipped), len(writer.redone)])
    return SynthesisSummary(out=out, planned=plan.pair_count, written=counts[0], present=counts[1],
                            skipped=counts[2], redone=counts[3], reasons=writer.skipped, redone_keys=writer.redone,
                            seconds=time.perf_counter() - started)


def _work_through(writer: "_Writer | ShardWriter", work: list[tuple[Callable[[Any], Any], Any, int]],
                  skipped: dict[str, str], progress: bool) -> None:
    """List the plan's skipped files, then do each work item (a batch or a tar shard) with a progress bar."""
    for key, reason in skipped.items():
        writer.skip(key, reason)
    with tqdm(total=sum(n for _, _, n in work), unit="pair", desc="synthesize", disable=not progress,
              dynamic_ncols=True) as bar:
        for do, item, size in work:
            do(item)
            writer.records.flush()
            bar.update(size)


class _Writer:
    """One process's pass over its batches: what is present, what to (re)do, and the records it appends."""

    def __init__(self, chain: Chain, plan: PairPlan, seed: int, device: torch.device, out: Path,
                 pool: ThreadPoolExecutor, records: IO[str], done: dict[str, dict[str, Any]]) -> None:
        self.chain, self.plan, self.seed, self.device, self.out = chain, plan, seed, device, out
        self.pool, self.records, self.done = pool, records, done
        self.written = self.present = 0
        self.skipped: dict[str, str] = {}
        self.redone: set[str] = set()
        self._by_source: dict[str, list[dict[str, Any]]] | None = None

    def skip(self, key: str, reason: str) -> None:
        """List ``key`` as skipped, and remove the files of pairs it had from an earlier run (now stale)."""
        self.skipped[key] = reason
        self.records.write(json.dumps({"kind": "skipped", "source": key, "reason": reason}) + "\n")
        if self._by_source is None:  # built on the first skip: most runs skip nothing
            self._by_source = {}
            for record in self.done.values():
                self._by_source.setdefault(str(record.get("source")), []).append(record)
        retract_pairs(self.out, self._by_source.get(key, []))

    def batch(self, batch: list[PairUnit]) -> None:
        """Write the pairs of ``batch`` that are missing or stale (their input changed since)."""
        prints = self._fingerprints(batch)
        missing = [u for u in batch if u.key in prints and not self._current(u, prints[u.key])]
        if not missing:
            self.present += sum(u.key in prints for u in batch)
            return
        loaded = load_batch([u for u in batch if u.key in prints], self.plan, self.pool)
        for key in sorted(k for k in prints if not isinstance(loaded[k], Tensor)):
            self.skip(key, str(loaded[key]))
        units = [u for u in batch if isinstance(loaded.get(u.key), Tensor)]
        if not units:
            return
        todo = {u for u in units if not self._current(u, prints[u.key])}
        self.redone.update(u.key for u in todo if u.lq_name in self.done)
        n_new = self._synthesize(units, todo, loaded, prints)
        self.written += n_new
        self.present += len(units) - len(todo)

    def _fingerprints(self, batch: list[PairUnit]) -> dict[str, Fingerprint]:
        """The fingerprint of each input of the batch; an input that cannot be read is skipped."""
        keys = sorted({u.key for u in batch})

        def fingerprint(key: str) -> Fingerprint | OSError:
            try:
                return file_fingerprint(self.plan.sources[key])
            except OSError as err:
                return err

        prints = {}
        for key, found in zip(keys, self.pool.map(fingerprint, keys)):
            if isinstance(found, OSError):
                self.skip(key, f"cannot read the file: {found.strerror or found}")
            else:
                prints[key] = found
        return prints

    def _current(self, unit: PairUnit, fingerprint: Fingerprint) -> bool:
        """Whether the unit's pair is on disk, made from this very input (same source, content and size)."""
        record = self.done.get(unit.lq_name)
        return (record is not None and record.get("source") == unit.key and record.get("gt") == gt_relpath(unit)
                and fingerprint.matches(record))

    def _synthesize(self, units: list[PairUnit], todo: set[PairUnit], loaded: dict[str, Tensor],
                    prints: dict[str, Fingerprint]) -> int:
        """Run the chain on the whole batch (its bytes never depend on what was done before), write the
        ``todo`` pairs and append their records; returns how many were written."""
        lq, params, seeds = run_chain(self.chain, units, loaded, self.seed, self.device)
        row = {u: i for i, u in enumerate(units)}
        files = write_batch_files(self.out, [u for u in units if u in todo], loaded,
                                  {u: lq[row[u]] for u in todo}, self.pool)
        for unit in files.written:
            i = row[unit]
            record = {"kind": "pair", "name": unit.name, "variant": unit.variant, "source": unit.key,
                      "gt": gt_relpath(unit), "lq": lq_relpath(unit), **lq_record(params, seeds, i),
                      "hq_size": [unit.height, unit.width], **prints[unit.key].as_record()}
            self.records.write(json.dumps(record, sort_keys=True) + "\n")
            self.done[unit.lq_name] = record
            if self._by_source is not None:
                self._by_source.setdefault(unit.key, []).append(record)
        for key, reason in files.failed.items():
            self.redone.discard(key)
            self.skip(key, reason)
        if files.error is not None:
            self.records.flush()
            raise files.error
        return len(files.written)
