"""``calibrate``: fit a chain's numeric arguments so its LQ of your HQ images matches your real LQ.

All inputs are checked, and the fixed samples built, before the search; nothing is written here
(the command writes the YAML and the report, atomically, once this returns).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch

from ..core.config import chain_from_dict, resolve_config
from .objective import Objective
from .report import distances, moved, shifts
from .samples import hq_samples, image_paths, pair_paths, real_patches
from .search import import_cmaes, search
from .space import SearchSpace


@dataclass
class Calibration:
    """The calibrated chain config (a dict for ``load_chain``/YAML) and the JSON-safe report."""

    config: dict[str, Any]
    report: dict[str, Any]


def calibrate(config: str | os.PathLike | Mapping[str, Any], real: str | os.PathLike | None = None,
              hq: str | os.PathLike | None = None, pairs: str | os.PathLike | None = None, budget: int = 300,
              seed: int = 0, params: Sequence[str] | None = None, colour: bool = False, crops: int = 32,
              crop: int | None = None, patch_size: int = 32, patches_per_crop: int = 16,
              patches_per_image: int = 64, sigma: float = 0.2, batch_size: int = 16,
              device: torch.device | str = "cpu", progress: bool = True) -> Calibration:
    """Search the chain's arguments over ``budget`` candidates; ``real`` + ``hq`` (folders, or a .txt list for
    ``real``), or ``pairs`` (DIR/gt + DIR/lq). Deterministic for a seed on one machine and thread count."""
    _check_numbers(budget=budget, crops=crops, patches_per_crop=patches_per_crop,
                   patches_per_image=patches_per_image, batch_size=batch_size)
    _check_inputs(real, hq, pairs, patch_size, sigma)
    import_cmaes()
    base = resolve_config(config, "chains")
    chain = chain_from_dict(base)
    space = SearchSpace(chain, params)
    device = torch.device(device)
    if pairs is not None:
        hq_paths, lq_paths = pair_paths(pairs)
        samples = hq_samples(chain, hq_paths, "--pairs", crops, crop, patch_size, seed, lq=lq_paths)
        target = f"pairs {pairs}"
    else:
        real_paths = image_paths(real, "--real")
        hq_paths = image_paths(hq, "--hq")
        samples = hq_samples(chain, hq_paths, "--hq", crops, crop, patch_size, seed)
        samples.real_patches, real_skipped = real_patches(real_paths, "--real", patch_size, patches_per_image, seed)
        samples.skipped += real_skipped
        target = f"real {real} from HQ {hq}"
    objective = Objective(samples, patch_size, patches_per_crop, colour, batch_size, device)
    start_stats = objective.synth_stats(chain)
    objective.fix_scale()
    result = search(space, lambda c: objective.terms(objective.synth_stats(chain_from_dict(c))), budget, seed,
                    sigma=sigma, progress=progress)
    fitted = space.config_for(result.best) if result.best_terms["objective"] < result.start_terms["objective"] \
        else space.config
    fitted = _named(fitted, base, target, seed, result.evaluated)
    end_stats = objective.synth_stats(chain_from_dict(fitted))
    report = _report(config, base, target, seed, budget, result, samples, objective, space, fitted,
                     start_stats, end_stats, dict(patch_size=patch_size, patches_per_crop=patches_per_crop,
                                                  patches_per_image=patches_per_image, colour=colour,
                                                  sigma=sigma, pairs=pairs is not None))
    return Calibration(config=fitted, report=report)


def _report(config: Any, base: Mapping[str, Any], target: str, seed: int, budget: int, result: Any, samples: Any,
            objective: Objective, space: SearchSpace, fitted: dict[str, Any], start_stats: torch.Tensor,
            end_stats: torch.Tensor, opts: dict[str, Any]) -> dict[str, Any]:
    """The JSON-safe report: distances and per-statistic shifts before/after, every moved argument."""
    real_stats = objective.real_stats
    patch_size, patches_per_crop, patches_per_image = opts["patch_size"], opts["patches_per_crop"], \
        opts["patches_per_image"]
    colour, sigma, pairs = opts["colour"], opts["sigma"], opts["pairs"]
    return {
        "config": str(base.get("name") or config), "target": target, "seed": seed, "budget": budget,
        "evaluated": result.evaluated,
        "objective": ("Fréchet distance of degradation statistics in the real LQ's units"
                      + (" at the same positions of the same scenes (the paired distance)" if pairs else "")
                      + (" (with colour)" if colour else "")
                      + (" + mean per-pair squared difference of mean statistics" if pairs else "")),
        "settings": {"crops": int(samples.hq.shape[0]), "crop": int(samples.hq.shape[-1]), "patch_size": patch_size,
                     "patches_per_crop": patches_per_crop, "patches_per_image": patches_per_image,
                     "synth_patches": int(start_stats.shape[0]), "real_patches": int(real_stats.shape[0]),
                     "colour": colour, "sigma": sigma},
        "tuned": [k.label for k in space.knobs],
        "distance_before": distances(real_stats, start_stats, objective.terms(start_stats)),
        "distance_after": distances(real_stats, end_stats, objective.terms(end_stats)),
        "shifts_before": shifts(real_stats, start_stats),
        "shifts_after": shifts(real_stats, end_stats),
        "moved": moved(space, fitted),
        "skipped": samples.skipped,
    }


def _check_inputs(real: Any, hq: Any, pairs: Any, patch_size: int, sigma: float) -> None:
    """Clear errors for options that cannot work together, before anything is read."""
    if patch_size < 16 or patch_size % 8:
        raise ValueError(f"--patch-size must be a multiple of 8 and >= 16, got {patch_size}")
    if not 0 < sigma <= 1:
        raise ValueError(f"--sigma must be in (0, 1], got {sigma}")
    if pairs is not None and (real is not None or hq is not None):
        raise ValueError("--pairs replaces --real and --hq: pass one or the other")
    if pairs is None and (real is None or hq is None):
        raise ValueError("pass --real (real LQ images) and --hq (HQ images), or --pairs DIR (DIR/gt + DIR/lq)")


def _check_numbers(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")


def _named(config: dict[str, Any], base: Mapping[str, Any], target: str, seed: int, evaluated: int) -> dict[str, Any]:
    name = str(base.get("name") or "chain")
    return {"name": f"{name}_calibrated",
            "description": f"{name} calibrated by degrade-stream calibrate to {target} "
                           f"(seed {seed}, {evaluated} candidates)",
            "stages": config["stages"]}
