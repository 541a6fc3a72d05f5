"""Issue 23 item 8: params given for replay are checked against the chain -- the stages' keys, the shapes,
finite values -- with an error naming the stage and the param, never a KeyError or a NaN LQ."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds

HQ = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def classical():
    chain = ds.load_chain("classical")
    return chain, chain(HQ, seed=1).params


def test_own_params_replay_exactly(classical):
    chain, params = classical
    assert torch.equal(chain(HQ, params=params).lq, chain(HQ, seed=1).lq)


def test_another_chains_params_name_the_missing_keys_not_a_key_error(classical):
    chain, _ = classical
    foreign = ds.load_chain("realesrgan")(HQ, seed=1).params
    with pytest.raises(ValueError, match=r"^params\[0\] \(stage 'classical'\): missing \['blur', 'sigma'.*another chain"):
        chain(HQ, params=foreign)
    with pytest.raises(ValueError, match=r"params has 2 stage entries but the chain has 1 stages \(classical\)"):
        chain(HQ, params=foreign + foreign)


@pytest.mark.parametrize("value, message", [
    (float("nan"), r"\['sigma'\]: holds NaN or infinite values"),
    (float("inf"), r"\['sigma'\]: holds NaN or infinite values"),
    (1e30, r"\['sigma'\]: holds values beyond \+-1e\+06"),
])
def test_non_finite_or_huge_params_are_refused(classical, value, message):
    chain, params = classical
    bad = [dict(params[0], sigma=torch.tensor([value, 1.0]))]
    with pytest.raises(ValueError, match=r"^params\[0\] \(stage 'classical'\)" + message):
        chain(HQ, params=bad)


@pytest.mark.parametrize("change, message", [
    (lambda p: dict(p, sigma=torch.ones(3)), r"\['sigma'\]: expected shape \(2,\) \(one entry per sample"),
    (lambda p: dict(p, sigma=torch.ones(2, dtype=torch.int64)), r"\['sigma'\]: expected a float tensor"),
    (lambda p: dict(p, sigma=[1.0, 2.0]), r"\['sigma'\]: expected a tensor of shape \(2,\), got list"),
    (lambda p: dict(p, blur={}), r"\['blur'\]: missing"),
    (lambda p: dict(p, extra=torch.ones(2)), r": unexpected \['extra'\]"),
])
def test_wrong_shapes_and_types_name_the_param(classical, change, message):
    chain, params = classical
    with pytest.raises(ValueError, match=r"^params\[0\] \(stage 'classical'\)" + message):
        chain(HQ, params=[change(params[0])])


def test_params_that_are_not_a_list_per_stage(classical):
    chain, params = classical
    with pytest.raises(ValueError, match="params must be a list with one dict per stage"):
        chain(HQ, params=params[0])
    with pytest.raises(ValueError, match=r"params\[0\] \(stage 'classical'\): expected a dict"):
        chain(HQ, params=[torch.ones(2)])


def test_a_stage_called_alone_checks_its_params_too(classical):
    chain, params = classical
    with pytest.raises(ValueError, match=r"^params \(stage 'classical'\)\['sigma'\]: holds NaN"):
        chain.stages[0](HQ, params=dict(params[0], sigma=torch.tensor([float("nan"), 1.0])))
