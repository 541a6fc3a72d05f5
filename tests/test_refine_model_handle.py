"""The refiner's model loading is explicit: each stage holds a DenoiserHandle that loads its checkpoint once per
device (on the first batch or on chain.to), there is no process-wide cache, and stages share a model only when
told to. Two chains with different models in one process each give their own model's output (the golden
hashes of tests/test_refine_hashes.py), and a chain moved between devices gives the same output after the move."""
from __future__ import annotations

import hashlib
import pickle

import pytest
import torch

import degrade_stream as ds
from test_refine_hashes import CASES, GOLDEN, _input


def _chain(case: str) -> ds.Chain:
    return ds.load_chain({"stages": [{"type": "ddpm_refine", **CASES[case]}]})


def _hash(chain: ds.Chain, device: str = "cpu") -> str:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        lq = chain(_input().to(device), seed=torch.tensor([3, 4, 5])).lq.cpu()
    finally:
        torch.set_num_threads(threads)
    return hashlib.sha256((lq * 255).round().to(torch.uint8).contiguous().numpy().tobytes()).hexdigest()


@pytest.mark.slow
def test_two_chains_with_different_checkpoints_each_use_their_own_model():
    natural, face = _chain("ddim"), _chain("face")
    assert _hash(natural) == GOLDEN["ddim"]
    assert _hash(face) == GOLDEN["face"]  # loading the face model changed nothing for the natural chain ...
    assert _hash(natural) == GOLDEN["ddim"]  # ... as this second call shows
    a, b = natural.stages[0], face.stages[0]
    assert a.denoiser("cpu") is not b.denoiser("cpu")
    assert a.model.loaded_devices() == ["cpu"] and b.model.loaded_devices() == ["cpu"]


def test_a_new_chain_loads_its_own_model_and_sharing_is_explicit():
    first, second = _chain("ddim"), _chain("ddim")
    first.to("cpu")
    assert second.stages[0].model.loaded_devices() == []  # nothing was loaded for it behind its back
    second.stages[0].share_model(first.stages[0])
    assert second.stages[0].denoiser("cpu") is first.stages[0].denoiser("cpu")
    assert _hash(second) == GOLDEN["ddim"]


def test_to_loads_once_and_release_reloads_the_same_model():
    chain = _chain("ddim").to("cpu")
    stage = chain.stages[0]
    loaded = stage.denoiser("cpu")
    assert chain.to("cpu").stages[0].denoiser(torch.device("cpu", 0)) is loaded  # cpu:0 is cpu: no second load
    stage.model.release()
    assert stage.model.loaded_devices() == []
    assert _hash(chain) == GOLDEN["ddim"] and stage.denoiser("cpu") is not loaded


def test_a_stage_pickles_without_its_loaded_model():
    chain = _chain("ddim").to("cpu")
    copy = pickle.loads(pickle.dumps(chain))
    assert copy.stages[0].model.loaded_devices() == [] and copy.stages[0] == chain.stages[0]
    assert _hash(copy) == GOLDEN["ddim"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_chain_moved_to_the_gpu_and_back():
    chain = _chain("ddim")
    on_cpu = _hash(chain)
    chain.to("cuda")
    assert chain.stages[0].model.loaded_devices() == [f"cuda:{torch.cuda.current_device()}"]  # the CPU copy is gone
    _hash(chain, "cuda")
    chain.to("cpu")
    assert chain.stages[0].model.loaded_devices() == ["cpu"]
    assert _hash(chain) == on_cpu == GOLDEN["ddim"]
