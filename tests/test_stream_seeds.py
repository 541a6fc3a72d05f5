"""Per-sample seeds from (seed, epoch, key): stable, distinct, independent of batch layout."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from degrade_stream.stream.seeds import content_keys, key_strings, sample_seeds, variant_index


def test_seeds_are_pinned_values_so_caches_and_plugins_agree_across_processes_and_versions():
    # BLAKE2b of the key, not Python's salted hash(): these numbers must never change silently,
    # or every PairCache on disk and every offline pair set would stop matching.
    assert sample_seeds(0, 0, ["a", "b"]).tolist() == [1760182659618754184, 1055333790891568022]
    assert sample_seeds(7, None, ["a"], variant=3).tolist() == [591845643114549118]


def test_seed_depends_on_seed_epoch_and_key_only():
    keys = ["x.png", "y.png", "z.png"]
    base = sample_seeds(3, 1, keys)
    assert base.dtype == torch.int64 and base.shape == (3,)
    assert len(set(base.tolist())) == 3
    assert not torch.equal(base, sample_seeds(4, 1, keys))
    assert not torch.equal(base, sample_seeds(3, 2, keys))
    # batch layout does not matter: alone, reordered, inside a bigger batch
    assert sample_seeds(3, 1, ["y.png"]).item() == base[1].item()
    assert sample_seeds(3, 1, ["q", "z.png", "x.png"])[1:].tolist() == [base[2].item(), base[0].item()]
    # large seeds use all 64 bits
    assert sample_seeds(1 << 40, 1, keys).tolist() != sample_seeds(0, 1, keys).tolist()


def test_key_forms_int_tensor_path_and_str_are_the_same_sample():
    assert key_strings(torch.tensor([3, 4])) == ["3", "4"]
    assert torch.equal(sample_seeds(0, 0, [3, 4]), sample_seeds(0, 0, torch.tensor([3, 4])))
    assert torch.equal(sample_seeds(0, 0, ["3"]), sample_seeds(0, 0, [3]))
    assert torch.equal(sample_seeds(0, 0, [Path("d/a.png")]), sample_seeds(0, 0, ["d/a.png"]))
    with pytest.raises(TypeError, match="one key per sample"):
        sample_seeds(0, 0, "abc")
    with pytest.raises(TypeError, match="sample keys must be"):
        sample_seeds(0, 0, [1.5])
    with pytest.raises(ValueError, match="epoch"):
        sample_seeds(0, -1, ["a"])


def test_variant_seed_ignores_epoch_and_differs_from_epoch_seeds():
    keys = ["a", "b"]
    v = sample_seeds(0, 5, keys, variant=1)
    assert torch.equal(v, sample_seeds(0, 9, keys, variant=1))
    assert torch.equal(v, sample_seeds(0, None, keys, variant=torch.tensor([1, 1])))
    assert not torch.equal(v, sample_seeds(0, None, keys, variant=0))
    assert not torch.equal(v, sample_seeds(0, 1, keys))
    with pytest.raises(ValueError, match="one variant per key"):
        sample_seeds(0, None, keys, variant=[0, 1, 2])


def test_each_block_of_k_epochs_visits_every_variant_once_in_a_per_key_order():
    keys = [f"k{i}" for i in range(32)]
    k = 4
    for block in range(3):
        chosen = torch.stack([variant_index(0, block * k + e, keys, k) for e in range(k)], 1)
        assert torch.equal(chosen.sort(1).values, torch.arange(k).expand(32, k))
    first = torch.stack([variant_index(0, e, keys, k) for e in range(k)], 1)
    assert len({tuple(r) for r in first.tolist()}) > 4  # orders differ between keys
    assert torch.equal(variant_index(0, 2, keys[5:6], k), variant_index(0, 2, keys, k)[5:6])


def test_content_keys_follow_pixels_not_position():
    x = torch.rand(3, 3, 8, 8)
    keys = content_keys(x)
    assert len(set(keys)) == 3
    assert content_keys(x.flip(0)) == keys[::-1]
    y = x.clone()
    y[0, 0, 0, 0] += 1e-3
    assert content_keys(y)[0] != keys[0]


def test_visit_seeds_give_each_visit_of_a_key_the_seed_of_its_visit_number():
    from degrade_stream.stream.seeds import visit_seeds

    hq = torch.zeros(3, 3, 4, 4)
    visits: dict[str, int] = {}
    first = visit_seeds(5, ["a", "b", "a"], hq, visits)  # "a" twice: visits 0 and 1, in batch order
    assert first.tolist() == [sample_seeds(5, 0, ["a"]).item(), sample_seeds(5, 0, ["b"]).item(),
                              sample_seeds(5, 1, ["a"]).item()]
    assert visits == {"a": 2, "b": 1}
    again = visit_seeds(5, [Path("b"), 7, "a"], hq, visits)  # keys as str(): a path and an int too
    assert again.tolist() == [sample_seeds(5, 1, ["b"]).item(), sample_seeds(5, 0, ["7"]).item(),
                              sample_seeds(5, 2, ["a"]).item()]
    assert visits == {"a": 3, "b": 2, "7": 1}


def test_visit_seeds_key_every_sample_by_its_pixels_when_a_key_is_missing():
    from degrade_stream.stream.seeds import visit_seeds

    hq = torch.stack([torch.zeros(3, 4, 4), torch.ones(3, 4, 4)])
    visits: dict[str, int] = {}
    seeds = visit_seeds(1, ["a", None], hq, visits)
    assert seeds.tolist() == sample_seeds(1, 0, content_keys(hq)).tolist()
    assert sorted(visits) == sorted(content_keys(hq)) and set(visits.values()) == {1}


def test_content_seeds_follow_the_name_and_the_pixels():
    from degrade_stream.stream.seeds import content_seeds

    hq = torch.stack([torch.zeros(3, 4, 4), torch.full((3, 4, 4), 0.5)])
    seeds = content_seeds(2, ["x.png", "y.png"], hq)
    expected = [f"x.png|{content_keys(hq[:1])[0]}", f"y.png|{content_keys(hq[1:])[0]}"]
    assert seeds.tolist() == sample_seeds(2, 0, expected).tolist()
    assert content_seeds(2, ["x.png"], hq[1:]).item() != seeds[0].item()  # other pixels, other seed
    with pytest.raises(ValueError, match=r"expected one name per image \(2\), got 1"):
        content_seeds(2, ["x.png"], hq)
