"""Mid-epoch resume: state_dict() / load_state_dict() give bit-identical following batches."""
from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader
from torchdata.stateful_dataloader import StatefulDataLoader

import degrade_stream as ds
from core_helpers import CHAIN
from stream_helpers import HQCrops

# torchdata 0.11's StatefulDataLoader calls a torch API that torch 2.13 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:'set_vital' is deprecated")


@pytest.fixture(scope="module")
def chain() -> ds.Chain:
    return ds.load_chain(CHAIN)


def _plain(dataset):
    return DataLoader(dataset, batch_size=3)


def _stateful_shuffled(dataset):
    return StatefulDataLoader(dataset, batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("make_loader", [_plain, _stateful_shuffled], ids=["dataloader", "stateful_shuffled"])
def test_resume_mid_epoch_gives_identical_following_batches(chain, make_loader, tmp_path):
    dataset = HQCrops()
    stream = ds.PairStream(make_loader(dataset), chain, device="cpu", seed=3, prefetch=3,
                           crop=dict(gt_size=8))
    stream.set_epoch(1)
    it = iter(stream)
    next(it)
    next(it)
    state = stream.state_dict()  # after 2 of 4 batches, with more already prefetched
    rest = list(it)
    assert len(rest) == 2

    resumed = ds.PairStream(make_loader(dataset), ds.load_chain(CHAIN), device="cpu", seed=3, prefetch=1,
                            crop=dict(gt_size=8))
    resumed.load_state_dict(state)
    again = list(resumed)
    assert resumed.epoch == 1
    assert [b["key"] for b in again] == [b["key"] for b in rest]
    for a, b in zip(rest, again):
        assert torch.equal(a["lq"], b["lq"]) and torch.equal(a["gt"], b["gt"])
        assert torch.equal(a["seeds"], b["seeds"]) and b["epoch"] == 1
    stream.close()
    resumed.close()


def test_resume_with_keyless_loader_keeps_the_running_index(chain):
    images = torch.rand(7, 3, 8, 8)
    stream = ds.PairStream(DataLoader(images, batch_size=2), chain, device="cpu")
    it = iter(stream)
    next(it)
    state = stream.state_dict()
    rest = list(it)
    resumed = ds.PairStream(DataLoader(images, batch_size=2), chain, device="cpu")
    resumed.load_state_dict(state)
    again = list(resumed)
    assert [b["key"] for b in again] == [["2", "3"], ["4", "5"], ["6"]] == [b["key"] for b in rest]
    assert all(torch.equal(a["lq"], b["lq"]) for a, b in zip(rest, again))


def test_state_from_another_seed_or_chain_is_refused(chain):
    images = torch.rand(4, 3, 8, 8)
    state = ds.PairStream(DataLoader(images, batch_size=2), chain, device="cpu", seed=0).state_dict()
    with pytest.raises(ValueError, match="seed 0"):
        ds.PairStream(DataLoader(images, batch_size=2), chain, device="cpu", seed=1).load_state_dict(state)
    with pytest.raises(ValueError, match="missing 'seed'"):
        ds.PairStream(DataLoader(images, batch_size=2), chain, device="cpu").load_state_dict({"epoch": 0})
