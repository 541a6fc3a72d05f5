"""Issue 23 items 13 and 14: a device this machine lacks is refused when the PairStream is made, naming it; meta
tensors get a clear refusal; a malformed state for load_state_dict names what is missing."""
from __future__ import annotations

import copy

import pytest
import torch

import degrade_stream as ds
from degrade_stream.cli.pair_writer import resolve_device

CHAIN = "bicubic"


def _loader():
    return torch.utils.data.DataLoader(torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(0)),
                                       batch_size=2)


@pytest.mark.parametrize("device", [f"cuda:{torch.cuda.device_count() + 7}", "meta", "mps"])
def test_a_device_this_machine_lacks_is_refused_at_construction(device):
    with pytest.raises(ValueError, match=rf"PairStream device '{device}'"):
        ds.PairStream(_loader(), CHAIN, device=device)


def test_the_cli_device_check_knows_device_indices():
    with pytest.raises(ValueError, match=rf"cuda:{torch.cuda.device_count() + 3}"):
        resolve_device(f"cuda:{torch.cuda.device_count() + 3}")


def test_meta_tensors_are_refused_clearly():
    with pytest.raises(ValueError, match="hq is a meta tensor"):
        ds.load_chain(CHAIN)(torch.empty(2, 3, 32, 32, device="meta"), seed=0)
    with pytest.raises(ValueError, match="loader batch is a meta tensor"):
        next(iter(ds.PairStream([torch.empty(2, 3, 32, 32, device="meta")], CHAIN, device="cpu", prefetch=0)))
    with pytest.raises(ValueError, match="seed is a meta tensor"):
        ds.load_chain(CHAIN)(torch.rand(2, 3, 32, 32), seed=torch.empty(2, dtype=torch.int64, device="meta"))


@pytest.fixture
def saved():
    stream = ds.PairStream(_loader(), CHAIN, device="cpu", prefetch=0)
    it = iter(stream)
    next(it)
    return stream.state_dict()


def _without(state, *path):
    state = copy.deepcopy(state)
    node = state
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return state


@pytest.mark.parametrize("change, message", [
    (lambda s: _without(s, "pipeline", "root"), r"state\['pipeline'\]: missing 'root'"),
    (lambda s: _without(s, "pipeline", "root", "source", "index"), r"state\['pipeline'\]\['root'\]\['source'\]: "
                                                                     r"missing 'index'"),
    (lambda s: dict(s, pipeline=[]), r"state\['pipeline'\]: expected a mapping, got list"),
    (lambda s: dict(s, epoch="3"), r"state\['epoch'\]: expected an integer >= 0"),
    (lambda s: dict(s, pipeline=dict(s["pipeline"], num_yielded=-4)), r"state\['pipeline'\]\['num_yielded'\]"),
    (lambda s: dict(s, pipeline=dict(s["pipeline"], extra=1)), r"state\['pipeline'\]: unexpected key 'extra'"),
    (lambda s: _without(s, "seed"), r"state is missing 'seed'"),
    (lambda s: [1, 2], r"state is missing 'epoch'"),
])
def test_a_malformed_state_names_what_is_wrong(saved, change, message):
    stream = ds.PairStream(_loader(), CHAIN, device="cpu", prefetch=0)
    with pytest.raises(ValueError, match=message):
        stream.load_state_dict(change(saved))


def test_a_good_state_still_resumes_exactly(saved):
    stream = ds.PairStream(_loader(), CHAIN, device="cpu", prefetch=0)
    stream.load_state_dict(saved)
    resumed = [b["lq"] for b in stream]
    straight = [b["lq"] for b in ds.PairStream(_loader(), CHAIN, device="cpu", prefetch=0)][1:]
    assert len(resumed) == 2 and all(torch.equal(a, b) for a, b in zip(resumed, straight))
