"""One row of the downstream comparison trained to a plateau: a restorer per seed, trained on a chain's pairs
of the train H (or on the real train pairs: the oracle row), stopped by its held-out loss (plateau.py), then
scored on the real test pairs: PSNR/SSIM(restorer(L), H), mean and std over the seeds, with the budget used.

Held-out scenes: every ``every``-th train scene (by sorted name) is kept out of training and gives the
held-out set of every row (chain(H) of its H for a chain, its real pairs for the oracle), so the plateau is
judged on scenes the restorer never trained on, and all rows train on the same scenes.
"""
from __future__ import annotations

import statistics
from dataclasses import asdict
from typing import Any, Sequence

import torch

from ..core.chain import Chain
from .compare import Settings, restore_scores
from .crops import chain_batches, chain_validation, pair_batches, pair_validation
from .pairs import PairSet
from .plateau import Budget, TrainResult, train_until_plateau
from .restorer import build_restorer, parameter_count


def split_held_out(pairs: PairSet, every: int = 7) -> tuple[PairSet, PairSet]:
    """(training scenes, held-out scenes): scene i (sorted names) is held out when i % every == every - 1."""
    keep = [i for i in range(len(pairs.names)) if i % every != every - 1]
    held = [i for i in range(len(pairs.names)) if i % every == every - 1]
    if not keep or not held:
        raise ValueError(f"{len(pairs.names)} train pairs cannot be split 1 in {every} into training and held-out "
                         f"scenes; pass at least {every} train pairs")

    def subset(idx: list[int]) -> PairSet:
        return PairSet(pairs.folder, [pairs.names[i] for i in idx], [pairs.hq[i] for i in idx],
                       [pairs.lq[i] for i in idx])

    return subset(keep), subset(held)


def train_one(source: Chain | None, train: PairSet, held: PairSet, budget: Budget, seed: int,
              device: torch.device | str = "cpu", progress: bool = False, desc: str = "") -> TrainResult:
    """A restorer trained on ``source``'s pairs of the train H (None: the real train pairs) to a plateau."""
    model = build_restorer(seed, budget.width, budget.blocks).to(device)
    if source is None:
        batches = pair_batches(train.hq, train.lq, budget.max_steps, budget.batch_size, budget.crop, seed, device)
        val = pair_validation(held.hq, held.lq, budget.val_crops, budget.crop)
    else:
        batches = chain_batches(train.hq, source, budget.max_steps, budget.batch_size, budget.crop, seed, device)
        val = chain_validation(held.hq, source, budget.val_crops, budget.crop)
    return train_until_plateau(model, batches, (val[0].to(device), val[1].to(device)), budget, progress, desc)


def _mean_std(values: list[float]) -> dict[str, float]:
    return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def plateau_row(name: str, source: Chain | None, train: PairSet, held: PairSet, test: PairSet, budget: Budget,
                seeds: Sequence[int], eval_crop: int = 0, device: torch.device | str = "cpu",
                progress: bool = False) -> dict[str, Any]:
    """The row of ``source`` (None: oracle): per seed the test scores, steps, wall time and learning curve."""
    runs = []
    for seed in seeds:
        result = train_one(source, train, held, budget, seed, device, progress, f"{name} seed {seed}")
        scores = restore_scores(result.model, test, Settings(eval_crop=eval_crop, device=str(device)))
        runs.append({"seed": seed, **scores, "steps": result.steps, "best_step": result.best_step,
                     "held_out_loss": result.best_loss, "stopped": result.stopped,
                     "seconds": round(result.seconds, 1), "curve": result.curve})
    return {"row": name, "budget": {**asdict(budget), "parameters": parameter_count(build_restorer(0, budget.width,
                                                                                                  budget.blocks))},
            "runs": runs, "psnr": _mean_std([r["psnr"] for r in runs]), "ssim": _mean_std([r["ssim"] for r in runs])}
