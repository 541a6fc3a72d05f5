"""Train a restorer until its held-out loss stops improving, and keep the learning curve.

Every ``eval_every`` steps the L1 loss on a fixed held-out set is measured (for a chain: chain(H) of crops of
held-out scenes, with fixed seeds, so every evaluation sees the same pairs; for real pairs: crops of held-out
real pairs). Training stops when ``patience`` evaluations in a row fail to lower the best loss by a relative
``min_delta``, or at ``max_steps``; the best weights are kept. The fixed-step budget of the first
compare-chains (240 steps) left every restorer within 0.15 dB of doing nothing, which is why the rule is a
plateau and not a step count. Early stopping on a held-out loss with patience is the usual rule (Prechelt
1998, "Early stopping - but when?"; Keras/Lightning ``EarlyStopping(patience, min_delta)``).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Iterable, Iterator

import torch
from torch import Tensor, nn
from tqdm import tqdm


@dataclass(frozen=True)
class Budget:
    """Restorer size and training budget; the plateau rule (``eval_every``, ``patience``, ``min_delta``)."""

    width: int = 32
    blocks: int = 4
    crop: int = 48
    batch_size: int = 8
    lr: float = 5e-4
    max_steps: int = 4000
    eval_every: int = 100
    patience: int = 5
    min_delta: float = 0.002
    val_crops: int = 64


#: a 2-core CPU reaches the plateau of this one in minutes (benchmarks/RESULTS.md, "Fit your camera")
CPU_BUDGET = Budget()
#: a quicker CPU rule for many rows x seeds on a shared 2-core machine: 32 px crops, lr 1e-3, patience 3 of 100 steps
CPU_QUICK_BUDGET = Budget(crop=32, lr=1e-3, max_steps=3000, patience=3, min_delta=0.003)
#: for a GPU: a wider, deeper restorer on larger crops (not run here; see RESULTS)
GPU_BUDGET = Budget(width=64, blocks=16, crop=128, batch_size=32, lr=2e-4, max_steps=200_000, eval_every=1000,
                    patience=8, min_delta=0.001, val_crops=512)
#: the budgets by name (benchmarks/camera_claim.py --budget)
BUDGETS = {"cpu": CPU_BUDGET, "cpu_quick": CPU_QUICK_BUDGET, "gpu": GPU_BUDGET}


@dataclass
class TrainResult:
    """The best model, its learning curve and how training ended."""

    model: nn.Module
    curve: list[dict[str, float]]
    steps: int
    best_step: int
    best_loss: float
    stopped: str
    seconds: float


def held_out_loss(model: nn.Module, val_lq: Tensor, val_gt: Tensor, batch: int = 16) -> float:
    """Mean L1 loss of ``model`` on the held-out pairs."""
    total = 0.0
    model.eval()
    with torch.no_grad():
        for i in range(0, val_lq.shape[0], batch):
            total += float((model(val_lq[i:i + batch]) - val_gt[i:i + batch]).abs().sum())
    model.train()
    return total / val_gt.numel()


def train_until_plateau(model: nn.Module, batches: Iterable[tuple[Tensor, Tensor]], val: tuple[Tensor, Tensor],
                        budget: Budget, progress: bool = False, desc: str = "restorer") -> TrainResult:
    """Adam + L1 on ``batches`` of (lq, gt) until the held-out loss on ``val`` plateaus (or ``max_steps``)."""
    started = time.perf_counter()
    optimiser = torch.optim.Adam(model.parameters(), lr=budget.lr)
    best = held_out_loss(model, *val)
    curve = [{"step": 0, "train_loss": float("nan"), "held_out_loss": best}]
    best_state, best_step, waited, step, running, stopped = copy.deepcopy(model.state_dict()), 0, 0, 0, [], "max_steps"
    bar = tqdm(total=budget.max_steps, desc=desc, unit="step", disable=not progress, leave=False, dynamic_ncols=True)
    iterator: Iterator[tuple[Tensor, Tensor]] = iter(batches)
    model.train()
    while step < budget.max_steps:
        lq, gt = next(iterator)
        loss = (model(lq) - gt).abs().mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        step += 1
        running.append(float(loss.detach()))
        bar.update(1)
        if step % budget.eval_every == 0:
            current = held_out_loss(model, *val)
            curve.append({"step": step, "train_loss": sum(running) / len(running), "held_out_loss": current})
            running = []
            bar.set_postfix(held_out=f"{current:.5f}")
            if current < best * (1 - budget.min_delta):
                best, best_step, waited = current, step, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if waited >= budget.patience:
                    stopped = "plateau"
                    break
    bar.close()
    close = getattr(iterator, "close", None)
    if close is not None:  # a generator holding a PairStream: stop its background thread now
        close()
    model.load_state_dict(best_state)
    return TrainResult(model.eval(), curve, step, best_step, best, stopped, time.perf_counter() - started)
