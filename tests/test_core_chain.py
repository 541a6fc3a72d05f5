"""The core contract: per-sample seeding, batch independence, replay, config round-trip, no global RNG."""
from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
import torch

import degrade_stream as ds
from core_helpers import CHAIN


@pytest.fixture()
def chain() -> ds.Chain:
    return ds.load_chain(CHAIN)


def test_same_seed_same_result_and_different_seed_differs(chain, hq_batch):
    a = chain(hq_batch, seed=7).lq
    b = chain(hq_batch, seed=7).lq
    c = chain(hq_batch, seed=8).lq
    assert torch.equal(a, b)
    assert (a - c).abs().mean() > 1e-3
    assert a.shape == (8, 3, 32, 32)


def test_int_seed_gives_each_sample_its_own_draws(chain, hq_batch):
    same = hq_batch[:1].expand(4, -1, -1, -1).contiguous()
    out = chain(same, seed=3)
    sigmas = out.params[0]["sigma"]
    assert len(set(sigmas.tolist())) == 4
    assert (out.lq[0] - out.lq[1]).abs().mean() > 1e-3


def test_sample_alone_equals_sample_in_shuffled_batch(chain, hq_batch):
    seeds = torch.arange(100, 108, dtype=torch.int64) * 7919
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(1))
    batch_out = chain(hq_batch[perm], seed=seeds[perm]).lq
    for j, i in enumerate(perm.tolist()):
        alone = chain(hq_batch[i:i + 1], seed=seeds[i:i + 1]).lq
        assert torch.equal(alone[0], batch_out[j]), f"sample {i} at position {j} differs from itself alone"


def test_replay_from_params(chain, hq_batch):
    out = chain(hq_batch, seed=11)
    again = chain(hq_batch, params=out.params)
    assert torch.equal(out.lq, again.lq)


def test_params_subset_replays_subset(chain, hq_batch):
    from degrade_stream.core.params import select_params

    out = chain(hq_batch, seed=torch.arange(8))
    part = chain(hq_batch[2:5], params=select_params(out.params, slice(2, 5)))
    assert torch.equal(part.lq, out.lq[2:5])


def test_adding_a_stage_keeps_earlier_draws(hq_batch):
    short = ds.load_chain({"stages": CHAIN["stages"][:2]})
    long = ds.load_chain(CHAIN)
    seeds = torch.arange(8)
    assert torch.equal(short(hq_batch, seed=seeds).params[0]["noise"], long(hq_batch, seed=seeds).params[0]["noise"])


def test_yaml_round_trip(chain, hq_batch, tmp_path):
    path = ds.save_chain(chain, tmp_path / "chain.yaml")
    again = ds.load_chain(str(path))
    assert again.to_config() == chain.to_config()
    assert torch.equal(again(hq_batch, seed=5).lq, chain(hq_batch, seed=5).lq)
    rebuilt = ds.load_chain(chain.to_config())
    assert torch.equal(rebuilt(hq_batch, seed=5).lq, chain(hq_batch, seed=5).lq)
    assert rebuilt.config_hash() == chain.config_hash()


def test_pickle_round_trip(chain, hq_batch):
    again = pickle.loads(pickle.dumps(chain))
    assert torch.equal(again(hq_batch, seed=2).lq, chain(hq_batch, seed=2).lq)


def test_config_hash_changes_with_arguments(chain):
    other = CHAIN | {"stages": [dict(CHAIN["stages"][0], gray_prob=0.4)] + CHAIN["stages"][1:]}
    assert ds.load_chain(other).config_hash() != chain.config_hash()


@pytest.mark.parametrize("name", ["test", "bicubic", "classical", "bsrgan", "realesrgan", "realesrgan_ddpm", "gfpgan",
                                  "codeformer"])
def test_global_rngs_untouched(name, chain, hq_batch):
    chain = chain if name == "test" else ds.load_chain(name)  # a new chain: its first call also loads the DDPM
    if name == "realesrgan_ddpm":  # keep the refiner cheap: few steps on a small batch
        config = chain.to_config()
        config["stages"][-1]["steps"] = 2
        chain = ds.load_chain(config)
    torch_state = torch.random.get_rng_state()
    py_state = random.getstate()
    np_state = np.random.get_state()[1].copy()
    chain(hq_batch[:2], seed=0)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert random.getstate() == py_state
    assert np.array_equal(np.random.get_state()[1], np_state)


_M32, _M64, _GOLDEN = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x9E3779B9
_ROUNDS = (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344)


def _mix(x: int) -> int:
    """lowbias32 on Python ints: the reference for core/random.py's integer tensor ops."""
    x &= _M32
    x = ((x ^ (x >> 16)) * 0x7FEB352D) & _M32
    x = ((x ^ (x >> 15)) * 0x846CA68B) & _M32
    return x ^ (x >> 16)


def _mix64(hi: int, lo: int) -> tuple[int, int]:
    for k in _ROUNDS:
        hi, lo = lo, hi ^ _mix(lo ^ k)
    return hi, lo


def _reference_key(seed: int, *salt: int) -> tuple[int, int]:
    """derive_seeds(seed, *salt) as (hi, lo) 32-bit lanes, with Python integers only."""
    seed &= _M64
    hi, lo = _mix64(seed >> 32, seed & _M32)
    for s in salt:
        s &= _M64
        s_hi, s_lo = _mix64((s >> 32) ^ _GOLDEN, s & _M32)
        hi, lo = _mix64(hi ^ s_hi, lo ^ s_lo)
    return hi, lo


def _reference_bits(seed: int, stream: int, n: int) -> list[int]:
    """SampleRandom(seed, stream=stream).bits(n), computed with Python integers only."""
    hi, lo = _reference_key(seed, stream)
    return [_mix(_mix(_mix(lo ^ _mix(2 * c + 1)) ^ hi) + lo) for c in range(n)]


def test_draws_are_exact_integer_arithmetic_so_every_device_gives_the_same_bits():
    from degrade_stream.core.random import SampleRandom, derive_seeds

    seeds = [1, 2, 1 << 40, 12345678901234, -5, -(1 << 63)]
    for stream in (0, 7):
        bits = SampleRandom(torch.tensor(seeds), stream=stream).bits(6)
        assert bits.tolist() == [_reference_bits(s, stream, 6) for s in seeds]
    derived = derive_seeds(torch.tensor(seeds), 3, 1 << 40).tolist()
    for s, d in zip(seeds, derived):
        hi, lo = _reference_key(s, 3, 1 << 40)
        assert d & _M64 == (hi << 32) | lo  # all 64 bits of the derived seed
    # uniforms are (bits >> 8 + 0.5) / 2**24 in float32: exact IEEE steps, the same on any device
    ref = [(np.float32(b >> 8) + np.float32(0.5)) * np.float32(2.0 ** -24) for b in _reference_bits(seeds[2], 0, 6)]
    assert torch.equal(SampleRandom(torch.tensor(seeds[2:3])).uniform(6)[0], torch.from_numpy(np.array(ref)))


def test_sample_keys_use_all_64_bits():
    """Issue 23 item 16: keys were masked to 32 bits, so ~116 of a million sample-epoch seeds drew the same
    numbers. derive_seeds is now a bijection of int64 and the draws depend on all 64 bits of the key."""
    from degrade_stream.core.random import SampleRandom, derive_seeds

    seeds = torch.randint(-(1 << 63), (1 << 63) - 1, (200_000,), generator=torch.Generator().manual_seed(0))
    seeds = seeds.unique()
    for salt in ((), (0,), (5, 1 << 40)):
        assert derive_seeds(seeds, *salt).unique().numel() == seeds.numel()
    first = SampleRandom(seeds).bits(2)
    assert torch.unique(first[:, 0] * (1 << 32) + first[:, 1]).numel() == seeds.numel()
    a, b = torch.tensor([7]), torch.tensor([7 + (1 << 32)])
    assert not torch.equal(SampleRandom(a).bits(8), SampleRandom(b).bits(8))
    # 7 and 2**32 + (7 ^ mix(G) ^ mix(G + 1)) folded to the same 32-bit key before: identical draws
    old_collision = torch.tensor([0x7, 0x1_9EACB361])
    assert not torch.equal(*SampleRandom(old_collision).bits(8))
    # counters past 2**31 keep going instead of wrapping onto earlier values
    rng = SampleRandom(torch.tensor([3]))
    rng._counter = (1 << 31) - 2
    tail = rng.bits(4)[0].tolist()
    rng2 = SampleRandom(torch.tensor([3]))
    assert tail[2:] != rng2.bits(2)[0].tolist()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_draws_equal_cpu_draws():
    from degrade_stream.core.random import SampleRandom

    seeds = torch.tensor([1, 2, 1 << 40])
    cpu, gpu = SampleRandom(seeds), SampleRandom(seeds, device="cuda")
    assert torch.equal(cpu.bits(100), gpu.bits(100).cpu())
    assert torch.equal(cpu.uniform(100, low=0.2, high=3.0), gpu.uniform(100, low=0.2, high=3.0).cpu())
    assert torch.equal(cpu.randint(2, 25, 50), gpu.randint(2, 25, 50).cpu())
    assert torch.equal(cpu.permutation(6), gpu.permutation(6).cpu())


def test_uniforms_per_sample_and_their_statistics():
    from degrade_stream.core.random import SampleRandom

    rng = SampleRandom(torch.tensor([1, 2, 1]))
    u = rng.uniform(1000)
    assert torch.equal(u[0], u[2]) and not torch.equal(u[0], u[1])
    assert 0.0 < float(u.min()) and float(u.max()) < 1.0
    assert abs(float(u.mean()) - 0.5) < 0.03
    z = SampleRandom(torch.arange(4)).normal(20000)
    assert torch.allclose(z.mean(1), torch.zeros(4), atol=0.04)
    assert torch.allclose(z.std(1), torch.ones(4), atol=0.04)
    cat = SampleRandom(torch.arange(2)).categorical([0.2, 0.8], 20000)
    assert abs(float(cat.float().mean()) - 0.8) < 0.02


def test_wrong_seed_count_is_an_error(chain, hq_batch):
    with pytest.raises(ValueError, match="expected 8 per-sample seeds"):
        chain(hq_batch, seed=torch.arange(3))
    with pytest.raises(ValueError, match="seed is required"):
        chain(hq_batch)


def test_equal_transforms_hash_equal():
    """Issue 23 item 16: __eq__ compared configs while __hash__ was identity, breaking Python's contract."""
    a = ds.load_chain("realesrgan").stages[0]
    b = ds.load_chain("realesrgan").stages[0]
    c = ds.load_chain({"stages": [{"type": "realesrgan", "scale": 2}]}).stages[0]
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != c and len({a, c}) == 2
