"""PairCache: exact hits, variants per epoch, corruption recovery, config keying, LRU, disk full."""
from __future__ import annotations

import errno
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

import degrade_stream as ds
from core_helpers import CHAIN
from degrade_stream import atomic
from degrade_stream.stream.seeds import sample_seeds, variant_index
from stream_helpers import HQCrops, collect, loader


@pytest.fixture(scope="module")
def chain() -> ds.Chain:
    return ds.load_chain(CHAIN)


@pytest.fixture(scope="module")
def hq(hq_batch) -> torch.Tensor:
    return hq_batch[:, :, :32, :32].contiguous()  # small: the test chain's RNG is the slow part


@pytest.fixture(scope="module")
def crops() -> HQCrops:
    return HQCrops()


def _entries(root: Path) -> list[Path]:
    return sorted(root.rglob("*.lq"))


def _q8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255).round() / 255


def test_miss_then_hit_gives_identical_lq_and_matches_the_chain(tmp_path, chain, hq):
    cache = ds.PairCache(tmp_path, variants=3)
    keys = [f"k{i}" for i in range(8)]
    lq, info = cache.synthesize(chain, hq, keys, seed=4, epoch=1)
    assert not info.hit.any() and info.miss_index.tolist() == list(range(8))
    variants = variant_index(4, 1, keys, 3)
    assert torch.equal(info.variants, variants)
    expected = chain(hq, seed=sample_seeds(4, None, keys, variant=variants)).lq
    assert torch.equal(lq, _q8(expected))
    assert len(_entries(tmp_path)) == 8
    again, info2 = cache.synthesize(chain, hq, keys, seed=4, epoch=1)
    assert info2.hit.all() and info2.params is None and torch.equal(again, lq)
    # a mixed batch: hits and misses come back in order
    mixed, info3 = cache.synthesize(chain, hq[[0, 1]], ["k0", "new"], seed=4, epoch=1)
    assert info3.hit.tolist() == [True, False] and torch.equal(mixed[0], lq[0])
    assert cache.stats() == {"hits": 9, "misses": 9, "recomputed": 0, "writes": 9, "evictions": 0,
                             "write_failures": 0, "writing": 1}


def test_each_key_gets_k_distinct_variants_synthesised_once_over_training(tmp_path, chain, crops, caplog):
    cache = ds.PairCache(tmp_path, variants=2)
    stream = ds.PairStream(loader(crops), chain, device="cpu", seed=0, cache=cache)
    with caplog.at_level(logging.INFO, logger="degrade_stream.cache"):
        pairs = collect(stream, epochs=range(4))
    n = len(crops)
    assert cache.stats()["misses"] == 2 * n and cache.stats()["hits"] == 2 * n
    logged = [r.getMessage() for r in caplog.records if r.name == "degrade_stream.cache"]
    assert len(logged) == 4 and f"hits={2 * n}, misses={2 * n}" in logged[-1]  # one line per epoch
    for item in crops:
        k = item["key"]
        assert not torch.equal(pairs[(0, k)], pairs[(1, k)])
        # epochs 2 and 3 serve the very LQ of epochs 0 and 1, one each (in a per-sample order)
        same = [[torch.equal(pairs[(later, k)], pairs[(first, k)]) for first in (0, 1)] for later in (2, 3)]
        assert same in ([[True, False], [False, True]], [[False, True], [True, False]]), (k, same)
    # replay from the yielded seeds
    stream.set_epoch(3)
    batch = next(iter(stream))
    assert batch["params"] is None and batch["cache"]["hit"].all()
    assert torch.equal(batch["cache"]["variant"], variant_index(0, 3, batch["key"], 2))
    assert torch.equal(_q8(chain(batch["gt"], seed=batch["seeds"]).lq), batch["lq"])
    stream.close()


def test_corrupt_or_truncated_entries_are_recomputed_and_counted(tmp_path, chain, hq):
    cache = ds.PairCache(tmp_path)
    keys = [f"k{i}" for i in range(4)]
    lq, _ = cache.synthesize(chain, hq[:4], keys, seed=0, epoch=0)
    files = _entries(tmp_path)
    files[0].write_bytes(files[0].read_bytes()[:100])          # truncated
    blob = bytearray(files[1].read_bytes())
    blob[-5] ^= 0xFF                                           # one flipped pixel bit
    files[1].write_bytes(bytes(blob))
    files[2].write_bytes(b"")                                  # empty
    fresh = ds.PairCache(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # corruption is logged and counted, not warned
        again, info = fresh.synthesize(chain, hq[:4], keys, seed=0, epoch=0)
    assert torch.equal(again, lq)
    assert fresh.stats()["recomputed"] == 3 and fresh.stats()["hits"] == 1
    assert len(info.miss_index) == 3 and info.hit.sum() == 1
    _, info = fresh.synthesize(chain, hq[:4], keys, seed=0, epoch=0)  # rewritten entries are valid
    assert info.hit.all()


def test_changed_chain_config_seed_or_hq_size_never_serves_stale_pairs(tmp_path, chain, hq):
    cache = ds.PairCache(tmp_path)
    keys = ["a", "b"]
    cache.synthesize(chain, hq[:2], keys, seed=0, epoch=0)
    other = ds.load_chain({"stages": [{"type": "test_noise", "sigma_range": [0.3, 0.4]}]})
    _, info = cache.synthesize(other, hq[:2], keys, seed=0, epoch=0)
    assert not info.hit.any()
    _, info = cache.synthesize(chain, hq[:2], keys, seed=1, epoch=0)
    assert not info.hit.any()
    _, info = cache.synthesize(chain, hq[:2, :, :16, :16], keys, seed=0, epoch=0)
    assert not info.hit.any()
    _, info = cache.synthesize(chain, hq[:2], keys, seed=0, epoch=0)
    assert info.hit.all()


def test_keyless_batches_are_keyed_by_hq_content(tmp_path, chain, hq):
    cache = ds.PairCache(tmp_path)
    lq, info = cache.synthesize(chain, hq[:4], None, seed=0, epoch=0)
    assert all(k.startswith("content:") for k in info.keys)
    flipped, info2 = cache.synthesize(chain, hq[:4].flip(0), None, seed=0, epoch=0)
    assert info2.hit.all() and torch.equal(flipped, lq.flip(0))
    # through PairStream: a keyless shuffled loader hits the same entries in the next epoch
    stream = ds.PairStream(DataLoader(hq, batch_size=3, shuffle=True), chain, device="cpu", cache=cache)
    list(stream)
    assert cache.stats()["misses"] == 4 + 4  # 4 new images, the first 4 were cached above
    before = cache.stats()["hits"]
    list(stream)
    assert cache.stats()["hits"] - before == 8


def test_max_bytes_evicts_least_recently_used_entries(tmp_path, chain, hq):
    ds.PairCache(tmp_path / "probe").synthesize(chain, hq[:1], ["k0"], seed=0, epoch=0)
    size = _entries(tmp_path / "probe")[0].stat().st_size  # one entry (identity and pixels) of this test
    shutil.rmtree(tmp_path / "probe")
    cache = ds.PairCache(tmp_path, max_bytes=int(3.5 * size))
    for i in range(3):
        cache.synthesize(chain, hq[i:i + 1], [f"k{i}"], seed=0, epoch=0)
    paths = {f"k{i}": cache.synthesize(chain, hq[i:i + 1], [f"k{i}"], seed=0, epoch=0)[1] for i in range(3)}
    assert all(info.hit.all() for info in paths.values()) and len(_entries(tmp_path)) == 3
    by_age = sorted(_entries(tmp_path), key=lambda p: p.stat().st_mtime_ns)
    for n, path in enumerate(by_age):  # spread the times so the order is unambiguous
        os.utime(path, (1000 + n, 1000 + n))
    cache.synthesize(chain, hq[0:1], ["k0"], seed=0, epoch=0)  # a hit makes its entry the newest
    k0 = max(_entries(tmp_path), key=lambda p: p.stat().st_mtime_ns)
    lru = by_age[0] if by_age[0] != k0 else by_age[1]
    cache.synthesize(chain, hq[5:6], ["k5"], seed=0, epoch=0)
    left = _entries(tmp_path)
    assert k0 in left and lru not in left and len(left) == 3 and cache.stats()["evictions"] == 1
    assert sum(p.stat().st_size for p in left) <= 3.5 * size


def _entry_size() -> int:
    """Bytes of one identity-chain entry of a 16x16 image keyed like cache_writer.py's."""
    cache_dir = Path(tempfile.mkdtemp())
    try:
        ds.PairCache(cache_dir).synthesize(ds.load_chain("identity"), torch.zeros(1, 3, 16, 16), ["a-0"], seed=0)
        return _entries(cache_dir)[0].stat().st_size
    finally:
        shutil.rmtree(cache_dir)


def test_max_bytes_holds_for_two_caches_on_one_folder(tmp_path):
    size = _entry_size()
    bound = 24 * size  # each writer alone stays under it (20 entries); together they would not
    a, b = ds.PairCache(tmp_path, max_bytes=bound), ds.PairCache(tmp_path, max_bytes=bound)
    chain = ds.load_chain("identity")
    generator = torch.Generator().manual_seed(0)
    for i in range(20):
        for name, cache in (("a", a), ("b", b)):
            cache.synthesize(chain, torch.rand(1, 3, 16, 16, generator=generator), [f"{name}-{i}"], seed=0)
    assert sum(p.stat().st_size for p in _entries(tmp_path)) <= bound
    assert a.stats()["evictions"] + b.stats()["evictions"] > 0 and 20 <= len(_entries(tmp_path)) <= 24


@pytest.mark.slow
def test_max_bytes_holds_for_two_writer_processes(tmp_path):
    size = _entry_size()
    bound = 24 * size
    script = Path(__file__).parent / "cache_writer.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path), str(bound), name, "20", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for name in "ab"]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in results]
    stats = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    assert [s["writes"] for s in stats] == [20, 20]
    total = sum(p.stat().st_size for p in _entries(tmp_path))
    assert total <= bound, f"{total} bytes on disk for max_bytes={bound} ({[s['evictions'] for s in stats]} evictions)"
    assert sum(s["evictions"] for s in stats) > 0


def test_temp_files_of_crashed_writers_are_cleaned_up_by_the_size_scan(tmp_path):
    fan = tmp_path / ("0" * 16) / "ab"
    fan.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    entry_name = "ab" + "0" * 30 + ".lq"
    old = fan / f".{entry_name}.{dead.pid}.{atomic.HOST_MARK}.0123abcd.tmp"  # its writer died
    live = fan / f".{entry_name}.{os.getpid()}.{atomic.HOST_MARK}.0123abcd.tmp"  # being written
    for path in (old, live):
        path.write_bytes(b"partial")
    ds.PairCache(tmp_path, max_bytes=10**6)
    assert not old.exists() and live.exists()


def test_unwritable_cache_directory_fails_at_construction(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match=r"cache directory .*file/sub.* not writable"):
        ds.PairCache(blocker / "sub")
    with pytest.raises(ValueError, match="variants"):
        ds.PairCache(tmp_path, variants=0)
    with pytest.raises(ValueError, match="max_bytes"):
        ds.PairCache(tmp_path, max_bytes=-5)


def test_full_disk_stops_caching_with_one_warning_and_the_stream_goes_on(tmp_path, chain, crops, monkeypatch):
    cache = ds.PairCache(tmp_path / "c")
    real_open = open

    class HalfWriter:
        """A file whose write stores half the bytes, then fails like a full disk."""

        def __init__(self, path, mode):
            self.f = real_open(path, mode)

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(atomic, "open", HalfWriter, raising=False)  # write_bytes_atomic writes entries
    stream = ds.PairStream(loader(crops), chain, device="cpu", cache=cache)
    with pytest.warns(RuntimeWarning, match="disk full") as record:
        pairs = collect(stream, epochs=(0,))
    assert len([w for w in record if "disk full" in str(w.message)]) == 1
    assert len(pairs) == len(crops)
    assert not [p for p in (tmp_path / "c").rglob("*") if p.is_file()]  # no partial or temp file
    assert cache.stats()["writing"] == 0 and cache.stats()["write_failures"] == 1
    monkeypatch.undo()
    plain = collect(ds.PairStream(loader(crops), chain, device="cpu", cache=ds.PairCache(tmp_path / "d")))
    assert all(torch.equal(pairs[k], plain[k]) for k in pairs)


def test_cache_pickles_into_worker_processes(tmp_path, chain, hq):
    cache = ds.PairCache(tmp_path, variants=2)
    lq, _ = cache.synthesize(chain, hq[:2], ["a", "b"], seed=0, epoch=0)
    copy = pickle.loads(pickle.dumps(cache))
    again, info = copy.synthesize(chain, hq[:2], ["a", "b"], seed=0, epoch=0)
    assert info.hit.all() and torch.equal(again, lq) and copy.stats()["hits"] == 2


def test_explicit_variant_overrides_the_epoch_choice(tmp_path, chain, hq):
    cache = ds.PairCache(tmp_path, variants=3)
    _, info = cache.synthesize(chain, hq[:2], ["a", "b"], seed=0, epoch=7, variant=2)
    assert info.variants.tolist() == [2, 2]
    assert torch.equal(info.seeds, sample_seeds(0, None, ["a", "b"], variant=2))
    with pytest.raises(ValueError, match=r"variant must be in \[0, 3\)"):
        cache.synthesize(chain, hq[:2], ["a", "b"], seed=0, epoch=0, variant=3)
    with pytest.raises(ValueError, match="2 keys for a batch of 3"):
        cache.synthesize(chain, hq[:3], ["a", "b"], seed=0, epoch=0)
