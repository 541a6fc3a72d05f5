"""Exact batch independence: every shipped handcrafted chain gives a sample bit-identical output alone and
in a shuffled batch of 8, at 1 and 2 torch threads, both the 8-bit LQ and the float values before the
final rounding (which would hide a last-bit difference that only sometimes flips a level)."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds
from degrade_stream.degrade import model_base
from degrade_stream.degrade.realesrgan import _extents

MODELS = ["bicubic", "classical", "bsrgan", "realesrgan",
          pytest.param("realesrgan_release", marks=pytest.mark.slow)]  # realesrgan's code, other ranges
# no final round8: the float output shows any last-bit difference
BLOCKS = {"stages": [{"type": "usm"}, {"type": "blur", "prob": 0.8}, {"type": "resize", "scale": 2},
                     {"type": "noise"}, {"type": "jpeg", "jpeg_range": [40, 90]}]}


@pytest.fixture(params=[1, pytest.param(2, marks=pytest.mark.slow)], ids=["1thread", "2threads"])  # 2: slow on a loaded machine
def threads(request):
    """Run the test body with this many intra-op threads, and restore the caller's setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    try:
        yield request.param
    finally:
        torch.set_num_threads(before)


def _alone_vs_shuffled(chain: ds.Chain, hq: torch.Tensor, seeds: torch.Tensor) -> list[int]:
    """Indices of the samples whose output alone differs in any bit from their output in a shuffled batch."""
    perm = torch.randperm(hq.shape[0], generator=torch.Generator().manual_seed(int(seeds[0])))
    batch = chain(hq[perm], seed=seeds[perm]).lq
    return [i for j, i in enumerate(perm.tolist())
            if not torch.equal(chain(hq[i:i + 1], seed=seeds[i:i + 1]).lq[0], batch[j])]


@pytest.mark.parametrize("name", MODELS)
def test_sample_alone_equals_itself_in_a_shuffled_batch_of_8(name, threads, hq_batch):
    chain = ds.load_chain(name)
    seeds = torch.arange(8, dtype=torch.int64) * 7919 + 3
    assert _alone_vs_shuffled(chain, hq_batch, seeds) == []


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("size", [(64, 64), (50, 58)], ids=["64x64", "50x58"])
def test_unrounded_output_is_bit_identical_alone_and_in_a_batch(name, size, threads, hq_batch, monkeypatch):
    # without the final 8-bit rounding, a last-bit difference from a batch-dependent summation order shows
    monkeypatch.setattr(model_base, "quantize8", lambda x: x)
    # bsrgan's default JPEG is the 8-bit codec (Pillow): its batched float JPEG shows the arithmetic instead
    chain = ds.load_chain({"stages": [{"type": "bsrgan", "jpeg": "libjpeg"}]} if name == "bsrgan" else name)
    hq = hq_batch[:, :, :size[0], :size[1]].contiguous()
    seeds = torch.arange(8, dtype=torch.int64) * 104729 + 11
    result = chain(hq, seed=seeds)
    out = result.lq
    assert not torch.equal(out * 255, (out * 255).round())  # really unrounded
    if name.startswith("realesrgan"):  # the batch spans several canvas groups (realesrgan._extents)
        sizes = (torch.tensor(size)[None] * result.params[0]["scale1"][:, None]).floor().long().tolist()
        extents = _extents(size[0], size[1], chain.stages[0].resize1.factor_range)
        groups = {next(k for k, e in enumerate(extents) if s[0] <= e[0] and s[1] <= e[1]) for s in sizes}
        assert len(groups) >= 2, groups
    assert _alone_vs_shuffled(chain, hq, seeds) == []


def test_building_block_chain_is_exactly_batch_independent(threads, hq_batch):
    chain = ds.load_chain(BLOCKS)
    seeds = torch.tensor([3, 1, 4, 1 << 40, 5, 9, 2, 6])
    assert _alone_vs_shuffled(chain, hq_batch[:, :, :40, :48].contiguous(), seeds) == []
