"""Offline (HQ, LQ) pair writer behind ``degrade-stream synthesize`` (also used by sweep and demo).

Per-pair seeds come from ``degrade_stream.stream.seeds.sample_seeds`` with key = the file's path
relative to --hq, so offline pairs equal streamed ones: with one variant, the seed of epoch 0 (what
PairStream gives in its first epoch); with K variants, the seed of cache variant k (what PairCache
stores as variant k). Every file is written atomically and recorded only once complete, so a killed
run resumes where it stopped and a rerun writes the same bytes.
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor
from tqdm import tqdm

from .. import __version__
from ..core.config import load_chain, resolve_config
from ..core.device import resolve_device
from ..core.params import params_to
from ..core.quantize import quantize8
from ..io import load_image, save_image
from ..core.seed_domain import canonical_seed
from ..stream.seeds import sample_seeds
from .output_folder import PARTS_DIR, finished_pairs, merge_records, prepare_output, remove_stale_temp_files
from .min_size import chain_min_side
from .pair_plan import PairPlan, PairUnit, plan_pairs
from .sharding import Shard, barrier, sum_over_shards

MAX_LOGGED_ELEMENTS = 256  # larger per-sample params (noise fields) are logged as shape + hash


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

    def line(self) -> str:
        text = (f"{self.written} pairs written, {self.present} already present, "
                f"{self.skipped} files skipped, in {self.seconds:.1f} s -> {self.out}")
        if self.skipped:
            text += f" (reasons in {self.out / 'skipped.txt'})"
        return text


def _json_leaf(value: Tensor) -> Any:
    if value.numel() <= MAX_LOGGED_ELEMENTS:
        return value.tolist()
    import hashlib

    digest = hashlib.sha256(value.contiguous().numpy().tobytes()).hexdigest()[:16]
    return {"shape": list(value.shape), "sha256": digest}


def _sample_params(params: Any, i: int) -> Any:
    """Sample ``i``'s params as JSON-safe values (CPU tensors in, lists out)."""
    if isinstance(params, Tensor):
        return _json_leaf(params[i])
    if isinstance(params, dict):
        return {k: _sample_params(v, i) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [_sample_params(v, i) for v in params]
    return params


def _refine_steps(params: list[Any], i: int) -> int | list[int] | None:
    """The diffusion step t of sample i (from every stage whose params hold a 't'); None without one."""
    ts = [int(p["t"][i]) for p in params if isinstance(p, dict) and isinstance(p.get("t"), Tensor)]
    if not ts:
        return None
    return ts[0] if len(ts) == 1 else ts


def _seeds_for(units: list[PairUnit], seed: int) -> Tensor:
    keys = [u.key for u in units]
    if units[0].variant is None:
        return sample_seeds(seed, 0, keys)
    return sample_seeds(seed, 0, keys, variant=[u.variant for u in units])


def _load_hq(path: Path, height: int, width: int) -> Tensor:
    """The HQ image quantised to 8 bits (what gt/ stores) and cropped to a multiple of the scale."""
    image = load_image(path)[:, :height, :width]
    return quantize8(image)


def synthesize_pairs(config: str | os.PathLike | Mapping[str, Any], hq_dir: str | os.PathLike,
                     out_dir: str | os.PathLike, seed: int = 0, variants: int = 1, batch_size: int = 8,
                     device: str | None = None, shard: Shard = Shard(), progress: bool = True) -> SynthesisSummary:
    """Write every (HQ, LQ) pair of ``hq_dir`` degraded by ``config`` into ``out_dir`` (resumable)."""
    started = time.perf_counter()
    chain_config = resolve_config(config, "chains") if not isinstance(config, Mapping) else dict(config)
    chain = load_chain(chain_config)
    out = Path(out_dir)
    seed = canonical_seed(seed, "--seed")  # any integer, reduced modulo 2**64 (core/seed_domain.py)
    plan: PairPlan = plan_pairs(hq_dir, chain.scale, variants, batch_size, min_side=chain_min_side(chain),
                                out_dir=out)
    run_info = {"config_hash": chain.config_hash(), "seed": int(seed), "variants": int(variants),
                "scale": chain.scale, "degrade_stream": __version__}
    target = resolve_device(device)
    chain.to(target)
    prepare_output(out, run_info, chain.to_config())
    remove_stale_temp_files(out)

    done = set(finished_pairs(out))
    own_part = out / PARTS_DIR / f"shard-{shard.index}-of-{shard.count}.jsonl"
    own_batches = [b for j, b in enumerate(plan.batches) if shard.owns(j)]
    skipped = dict(plan.skipped) if shard.is_main else {}
    written = present = 0
    bar = tqdm(total=sum(len(b) for b in own_batches), unit="pair", desc="synthesize",
               disable=not (progress and shard.is_main), dynamic_ncols=True)
    with open(own_part, "a", encoding="utf-8") as records, ThreadPoolExecutor(max_workers=4) as pool:
        if shard.is_main:
            for key, reason in plan.skipped.items():
                records.write(json.dumps({"kind": "skipped", "source": key, "reason": reason}) + "\n")
        for batch in own_batches:
            missing = [u for u in batch if u.lq_name not in done]
            if not missing:
                present += len(batch)
                bar.update(len(batch))
                continue
            loaded = _load_batch(batch, plan, pool)
            units = [u for u in batch if isinstance(loaded[u.key], Tensor)]
            for key in {u.key for u in batch if not isinstance(loaded[u.key], Tensor)}:
                skipped[key] = str(loaded[key])
                records.write(json.dumps({"kind": "skipped", "source": key, "reason": skipped[key]}) + "\n")
            if units:
                n_new = _synthesize_batch(chain, units, loaded, seed, target, out, done, pool, records)
                written += n_new
                present += len(units) - n_new
            records.flush()
            bar.update(len(batch))
    bar.close()
    barrier(shard)
    if not (shard.group and not shard.is_main):  # under torchrun rank 0 merges for everyone
        merge_records(out, own_part)
    if shard.group and shard.is_main:
        for other in (out / PARTS_DIR).glob(f"shard-*-of-{shard.count}.jsonl"):
            other.unlink(missing_ok=True)
    written, present, n_skipped = sum_over_shards(shard, [written, present, len(skipped)])
    return SynthesisSummary(out=out, planned=plan.pair_count, written=written, present=present,
                            skipped=n_skipped, reasons=skipped, seconds=time.perf_counter() - started)


def _load_batch(batch: list[PairUnit], plan: PairPlan, pool: ThreadPoolExecutor) -> dict[str, Tensor | Exception]:
    """HQ tensor (or the load error) of every source key in the batch, read in parallel."""
    keys = sorted({u.key for u in batch})
    sizes = {u.key: (u.height, u.width) for u in batch}

    def load(key: str) -> Tensor | Exception:
        try:
            image = _load_hq(plan.sources[key], *sizes[key])
        except ValueError as err:
            return err
        if tuple(image.shape[1:]) != sizes[key]:
            return ValueError(f"cannot read image {plan.sources[key]}: decoded size differs from its header")
        return image

    return dict(zip(keys, pool.map(load, keys)))


def _synthesize_batch(chain, units: list[PairUnit], loaded: dict[str, Tensor], seed: int, device: torch.device,
                      out: Path, done: set[str], pool: ThreadPoolExecutor, records) -> int:
    """Run the chain on one batch, write the pairs not yet on disk, append their records; returns how many."""
    hq = torch.stack([loaded[u.key] for u in units])
    seeds = _seeds_for(units, seed)
    try:
        result = chain(hq.to(device, non_blocking=True), seed=seeds)
    except ValueError as err:  # name the inputs: "the chain failed" alone does not say on which files
        names = ", ".join(sorted({u.key for u in units}))
        raise ValueError(f"degrading {names} ({hq.shape[-1]}x{hq.shape[-2]} px): {err}") from None
    lq = result.lq.cpu()
    params = params_to(result.params, "cpu")
    jobs, new_records, gt_queued = [], [], set()
    for i, unit in enumerate(units):
        if unit.lq_name in done:
            continue
        gt_rel, lq_rel = f"gt/{unit.name}.png", f"lq/{unit.lq_name}.png"
        if gt_rel not in gt_queued and not (out / gt_rel).exists():
            gt_queued.add(gt_rel)
            jobs.append(pool.submit(save_image, hq[i], out / gt_rel))
        jobs.append(pool.submit(save_image, lq[i], out / lq_rel))
        new_records.append({"kind": "pair", "name": unit.name, "variant": unit.variant, "source": unit.key,
                            "gt": gt_rel, "lq": lq_rel, "seed": int(seeds[i]), "t": _refine_steps(params, i),
                            "params": _sample_params(params, i)})
    for job in jobs:
        job.result()
    for record in new_records:
        records.write(json.dumps(record, sort_keys=True) + "\n")
        done.add(Path(record["lq"]).stem)
    return len(new_records)
