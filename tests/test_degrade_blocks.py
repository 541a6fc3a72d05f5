"""Building-block stages composed in YAML: shapes, replay, batch independence, probabilities, errors."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds

CHAIN = {"stages": [{"type": "usm"}, {"type": "blur", "prob": 0.8}, {"type": "resize", "scale": 2},
                    {"type": "noise"}, {"type": "jpeg", "jpeg_range": [40, 90]}, {"type": "round8"}]}


def test_composed_chain_shape_replay_and_independence(hq_batch):
    chain = ds.load_chain(CHAIN)
    hq = hq_batch[:4, :, :40, :48]
    seeds = torch.tensor([3, 1, 4, 1 << 40])
    out = chain(hq, seed=seeds)
    assert chain.scale == 2 and out.lq.shape == (4, 3, 20, 24)
    assert torch.equal(chain(hq, params=out.params).lq, out.lq)
    alone = chain(hq[2:3], seed=seeds[2:3]).lq
    assert torch.equal(alone, out.lq[2:3])


def test_probability_zero_stages_are_identities():
    x = torch.rand(2, 3, 24, 24)
    for spec in ({"type": "blur", "prob": 0.0}, {"type": "jpeg", "prob": 0.0}):
        assert torch.equal(ds.load_chain({"stages": [spec]})(x, seed=0).lq, x)
    blurred = ds.load_chain({"stages": [{"type": "blur", "prob": 1.0}]})(x, seed=0).lq
    assert blurred.std() < x.std()  # a low-pass filter lowers the variance of white noise


def test_noise_stage_choice_is_per_sample():
    stage = ds.load_chain({"stages": [{"type": "noise"}]}).stages[0]
    p = stage.sample_params(torch.rand(32, 3, 8, 8), torch.arange(32))
    assert 0 < int(p["gaussian"].sum()) < 32 and 0 < int(p["gray"].sum()) < 32


def test_resize_too_small_and_bad_config():
    with pytest.raises(ValueError, match="needs at least 4x4"):
        ds.load_chain({"stages": [{"type": "resize", "scale": 4}]})(torch.rand(1, 3, 3, 8), seed=0)
    with pytest.raises(ValueError, match=r"stages\[0\]\.jpeg_range"):
        ds.load_chain({"stages": [{"type": "jpeg", "jpeg_range": [0, 101]}]})
