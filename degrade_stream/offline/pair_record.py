"""What the offline writers (pairs folder and WebDataset shards) share: loading a batch's HQ, running the
chain on it with the per-pair seeds, and each LQ's record (seed, diffusion step t, chain params as JSON).

Per-pair seeds come from ``degrade_stream.stream.seeds.sample_seeds`` with key = the file's path relative to
--hq: with one variant, the seed of epoch 0 (what PairStream gives in its first epoch); with K variants,
the seed of cache variant k (what PairCache stores as variant k).
"""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import Tensor

from ..core.chain import Chain
from ..core.finite import NonFiniteOutput
from ..core.params import params_to
from ..core.quantize import quantize8
from ..io import load_image
from ..stream.seeds import sample_seeds
from .pair_plan import PairPlan, PairUnit

MAX_LOGGED_ELEMENTS = 256  # larger per-sample params (noise fields) are logged as shape + hash


def _json_leaf(value: Tensor) -> Any:
    if value.numel() <= MAX_LOGGED_ELEMENTS:
        return value.tolist()
    digest = hashlib.sha256(value.contiguous().numpy().tobytes()).hexdigest()[:16]
    return {"shape": list(value.shape), "sha256": digest}


def sample_params(params: Any, i: int) -> Any:
    """Sample ``i``'s chain params as JSON-safe values (CPU tensors in, lists out; large fields as a hash)."""
    if isinstance(params, Tensor):
        return _json_leaf(params[i])
    if isinstance(params, dict):
        return {k: sample_params(v, i) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [sample_params(v, i) for v in params]
    return params


def refine_steps(params: list[Any], i: int) -> int | list[int] | None:
    """The diffusion step t of sample i (from every stage whose params hold a 't'); None without one."""
    ts = [int(p["t"][i]) for p in params if isinstance(p, dict) and isinstance(p.get("t"), Tensor)]
    if not ts:
        return None
    return ts[0] if len(ts) == 1 else ts


def lq_record(params: list[Any], seeds: Tensor, i: int) -> dict[str, Any]:
    """The record of LQ i of a batch: its seed, its diffusion step t (None without a refiner), its params."""
    return {"seed": int(seeds[i]), "t": refine_steps(params, i), "params": sample_params(params, i)}


def unit_seeds(units: Sequence[PairUnit], seed: int) -> Tensor:
    """(B,) int64 chain seeds of the units (module docstring)."""
    keys = [u.key for u in units]
    if units[0].variant is None:
        return sample_seeds(seed, 0, keys)
    return sample_seeds(seed, 0, keys, variant=[u.variant for u in units])


def load_hq(path: Path, height: int, width: int) -> Tensor:
    """The HQ image quantised to 8 bits (what gt/ stores) and cropped to a multiple of the scale."""
    return quantize8(load_image(path)[:, :height, :width])


def load_batch(batch: Sequence[PairUnit], plan: PairPlan, pool: ThreadPoolExecutor) -> dict[str, Tensor | Exception]:
    """HQ tensor (or the load error) of every source key in the batch, read in parallel."""
    keys = sorted({u.key for u in batch})
    sizes = {u.key: (u.height, u.width) for u in batch}

    def load(key: str) -> Tensor | Exception:
        try:
            image = load_hq(plan.sources[key], *sizes[key])
        except (ValueError, OSError) as err:
            return err if isinstance(err, ValueError) else ValueError(f"cannot read image: {err}")
        if tuple(image.shape[1:]) != sizes[key]:
            return ValueError(f"cannot read image {plan.sources[key]}: decoded size differs from its header")
        return image

    return dict(zip(keys, pool.map(load, keys)))


def run_chain(chain: Chain, units: Sequence[PairUnit], loaded: dict[str, Tensor], seed: int,
              device: torch.device) -> tuple[Tensor, list[Any], Tensor]:
    """(LQ on CPU, params on CPU, seeds) of the chain run once on the whole batch ``units``; an error of the
    chain names the batch's input files."""
    hq = torch.stack([loaded[u.key] for u in units])
    seeds = unit_seeds(units, seed)
    try:
        result = chain(hq.to(device, non_blocking=True), seed=seeds)
    except ValueError as err:  # name the inputs: "the chain failed" alone does not say on which files
        if isinstance(err, NonFiniteOutput):  # it names the very samples: say which files they are
            err = err.with_keys([u.key for u in units])
        names = ", ".join(sorted({u.key for u in units}))
        raise ValueError(f"degrading {names} ({hq.shape[-1]}x{hq.shape[-2]} px): {err}") from None
    return result.lq.cpu(), params_to(result.params, "cpu"), seeds
