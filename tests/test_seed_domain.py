"""Issue 23 item 12: one seed domain -- any integer, reduced modulo 2**64 into int64 -- in chain(), PairStream,
PairCache, sample_seeds, synthesize --seed, train-ddpm's seed and the BasicSR plugin; errors name ``seed``."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import degrade_stream as ds
from degrade_stream.core.errors import ConfigError
from degrade_stream.core.seed_domain import canonical_seed
from degrade_stream.diffusion.train_config import TrainConfig
from degrade_stream.stream.seeds import sample_seeds, variant_index

CHAIN = {"stages": [{"type": "classical", "scale": 2}]}  # random blur, noise and JPEG: the seed matters
EQUIVALENT = [(2 ** 63, -(2 ** 63)), (2 ** 64, 0), (-(2 ** 63) - 1, 2 ** 63 - 1), (2 ** 64 + 3, 3), (-1, 2 ** 64 - 1)]


@pytest.fixture(scope="module")
def hq() -> torch.Tensor:
    return torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def test_canonical_seed_is_reduction_modulo_2_64_into_int64():
    for big, small in EQUIVALENT:
        assert canonical_seed(big) == canonical_seed(small) == ((small + 2 ** 63) % 2 ** 64) - 2 ** 63
    assert canonical_seed(np.int64(3)) == canonical_seed(np.uint64(3)) == canonical_seed(torch.tensor(3)) == 3
    assert canonical_seed(np.uint64(2 ** 64 - 1)) == -1


@pytest.mark.parametrize("big, small", EQUIVALENT)
def test_chain_accepts_every_integer_seed_and_reduces_it(hq, big, small):
    chain = ds.load_chain(CHAIN)
    assert torch.equal(chain(hq, seed=big).lq, chain(hq, seed=small).lq)


def test_numpy_and_0_dim_seeds_act_like_the_int(hq):
    chain = ds.load_chain(CHAIN)
    want = chain(hq, seed=3).lq
    for seed in (np.int64(3), np.int32(3), np.uint8(3), torch.tensor(3), np.array(3)):
        assert torch.equal(chain(hq, seed=seed).lq, want), type(seed)
    per_sample = chain(hq, seed=torch.tensor([7, 2 ** 40])).lq
    assert torch.equal(chain(hq, seed=[7 + 2 ** 64, 2 ** 40]).lq, per_sample)
    assert torch.equal(chain(hq, seed=np.array([7, 2 ** 40], dtype=np.uint64)).lq, per_sample)


@pytest.mark.parametrize("bad", [3.0, True, "3", None, torch.tensor([1.0, 2.0]), np.array([0.5, 1.5]), object()])
def test_a_bad_seed_is_an_error_naming_seed(hq, bad):
    chain = ds.load_chain(CHAIN)
    with pytest.raises((ValueError, TypeError), match=r"^seed"):
        chain(hq, seed=bad)


def test_a_meta_tensor_seed_is_refused_clearly(hq):
    with pytest.raises(TypeError, match="seed is a meta tensor"):
        ds.load_chain(CHAIN)(hq, seed=torch.empty(2, dtype=torch.int64, device="meta"))


def test_sample_seeds_and_variants_reduce_the_seed():
    keys = ["a.png", "b.png"]
    for big, small in EQUIVALENT:
        assert torch.equal(sample_seeds(big, 1, keys), sample_seeds(small, 1, keys))
        assert torch.equal(variant_index(big, 4, keys, 3), variant_index(small, 4, keys, 3))
    assert torch.equal(sample_seeds(np.int64(3), 0, keys), sample_seeds(3, 0, keys))
    with pytest.raises(ValueError, match="^seed"):
        sample_seeds(1.5, 0, keys)


def _stream_lq(seed) -> torch.Tensor:
    loader = torch.utils.data.DataLoader(torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1)),
                                         batch_size=2)
    with ds.PairStream(loader, CHAIN, device="cpu", seed=seed, prefetch=0) as stream:
        return torch.cat([batch["lq"] for batch in stream])


def test_pair_stream_uses_the_same_domain():
    assert torch.equal(_stream_lq(2 ** 63), _stream_lq(-(2 ** 63)))
    assert torch.equal(_stream_lq(np.int64(5)), _stream_lq(5))
    with pytest.raises(ValueError, match="PairStream seed"):
        ds.PairStream([], CHAIN, device="cpu", seed=2.5)


def test_pair_cache_entries_of_equivalent_seeds_are_one_entry(tmp_path, hq):
    cache = ds.PairCache(tmp_path / "cache")
    chain = ds.load_chain(CHAIN)
    first, _ = cache.synthesize(chain, hq, keys=["a", "b"], seed=2 ** 64 + 1)
    again, info = cache.synthesize(chain, hq, keys=["a", "b"], seed=1)
    assert torch.equal(first, again) and bool(info.hit.all())


def test_train_config_seed_uses_the_domain():
    assert TrainConfig.from_dict({"seed": 2 ** 64 + 2}).seed == 2
    assert TrainConfig.from_dict({"seed": -1}).seed == -1
    with pytest.raises(ConfigError, match=r"^seed: must be an integer"):
        TrainConfig.from_dict({"seed": 1.5})


def test_synthesize_seed_uses_the_domain(tmp_path, capsys):
    from degrade_stream.cli.main import main
    from degrade_stream.io import save_image

    (tmp_path / "hq").mkdir()
    save_image(torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(2)), tmp_path / "hq" / "x.png")
    config = tmp_path / "chain.yaml"
    ds.save_chain(ds.load_chain(CHAIN), config)
    outputs = {}
    for seed in (str(2 ** 64 + 9), "9"):
        out = tmp_path / f"out{seed}"
        assert main(["synthesize", "--config", str(config), "--hq", str(tmp_path / "hq"), "--out", str(out),
                     "--seed", seed, "--no-progress"]) == 0
        outputs[seed] = (out / "lq" / "x.png").read_bytes()
        assert json.loads((out / "run.json").read_text())["seed"] == 9
    assert outputs[str(2 ** 64 + 9)] == outputs["9"]


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
def test_basicsr_plugin_accepts_negative_and_huge_seeds():
    from conftest import require_framework
    from degrade_stream.compat import alias_torchvision_functional_tensor

    require_framework("basicsr", prepare=alias_torchvision_functional_tensor)
    from test_plugin_basicsr import dataset_opt

    from degrade_stream.plugins.basicsr import DegradeStreamDataset

    minus_one = DegradeStreamDataset(dataset_opt(seed=-1, degrade_stream=CHAIN, scale=2))
    huge = DegradeStreamDataset(dataset_opt(seed=2 ** 64 - 1, degrade_stream=CHAIN, scale=2))
    assert minus_one.seed == huge.seed == -1
    assert torch.equal(minus_one[0]["lq"], huge[0]["lq"])
    with pytest.raises(ValueError, match=r"^datasets.train.seed: must be an integer"):
        DegradeStreamDataset(dataset_opt(seed="x", degrade_stream=CHAIN, scale=2))
