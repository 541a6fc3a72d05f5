"""Restorers trained to a plateau: the stop rule, the kept best weights and curve, held-out scenes, the oracle."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

import degrade_stream as ds
from degrade_stream.restore.crops import chain_validation, pair_batches, pair_validation
from degrade_stream.restore.pairs import PairSet
from degrade_stream.restore.plateau import Budget, train_until_plateau
from degrade_stream.restore.plateau_rows import plateau_row, split_held_out

TINY = Budget(width=8, blocks=1, crop=16, batch_size=4, lr=1e-3, max_steps=60, eval_every=10, patience=2,
              val_crops=8)


def _pairs(n: int = 8, size: int = 40) -> PairSet:
    g = torch.Generator().manual_seed(0)
    hq = [torch.rand(3, size, size, generator=g) for _ in range(n)]
    lq = [(h * 0.8 + 0.1) for h in hq]  # a known, learnable degradation
    return PairSet(Path("."), [f"{i:03d}.png" for i in range(n)], hq, lq)


def test_stops_at_the_plateau_and_keeps_the_curve():
    pairs = _pairs()
    model = nn.Conv2d(3, 3, 1)
    batches = pair_batches(pairs.hq, pairs.lq, 1000, 4, 16, seed=0)
    frozen = replace(TINY, lr=0.0, max_steps=1000)  # nothing can improve: stops after `patience` evaluations
    result = train_until_plateau(model, batches, pair_validation(pairs.hq, pairs.lq, 8, 16), frozen)
    assert result.stopped == "plateau" and result.steps == frozen.patience * frozen.eval_every
    assert [c["step"] for c in result.curve] == [0, 10, 20]
    assert result.best_step == 0


def test_learning_lowers_the_held_out_loss_and_best_weights_are_kept():
    pairs = _pairs()
    model = nn.Conv2d(3, 3, 1)
    val = pair_validation(pairs.hq, pairs.lq, 8, 16)
    budget = replace(TINY, max_steps=200, patience=3, lr=0.02)
    result = train_until_plateau(model, pair_batches(pairs.hq, pairs.lq, 200, 4, 16, seed=1), val, budget)
    losses = [c["held_out_loss"] for c in result.curve]
    assert result.best_loss == min(losses) < 0.5 * losses[0]
    from degrade_stream.restore.plateau import held_out_loss
    assert held_out_loss(result.model, *val) == pytest.approx(result.best_loss, rel=1e-6)


def test_held_out_scenes_are_apart_from_training_scenes():
    train, held = split_held_out(_pairs(14), every=7)
    assert held.names == ["006.png", "013.png"] and not set(held.names) & set(train.names)
    with pytest.raises(ValueError, match="cannot be split 1 in 7"):
        split_held_out(_pairs(5), every=7)


@pytest.mark.slow
def test_oracle_and_chain_rows_report_every_seed(tmp_path):
    pairs = _pairs(8)
    train, held = split_held_out(pairs, every=4)
    oracle = plateau_row("oracle", None, train, held, pairs, TINY, seeds=[0, 1])
    assert [r["seed"] for r in oracle["runs"]] == [0, 1]
    assert oracle["psnr"]["std"] >= 0 and all(r["curve"] for r in oracle["runs"])
    chain = ds.load_chain({"stages": [{"type": "bicubic", "scale": 2, "resize_back": True}]})
    row = plateau_row("bicubic", chain, train, held, pairs, TINY, seeds=[0])
    assert row["runs"][0]["steps"] <= TINY.max_steps and row["budget"]["parameters"] > 0
    lq, gt = chain_validation(held.hq, chain, 8, 16)
    assert torch.equal(lq, chain_validation(held.hq, chain, 8, 16)[0])  # fixed held-out pairs
