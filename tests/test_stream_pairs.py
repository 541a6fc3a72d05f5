"""PairStream: wrapping a DataLoader, keys/seeds/epochs, batch independence, crop, errors, close."""
from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

import degrade_stream as ds
from core_helpers import CHAIN
from degrade_stream.io import list_images, load_image
from degrade_stream.stream.seeds import sample_seeds
from stream_helpers import HQCrops, collect, loader


@pytest.fixture(scope="module")
def chain() -> ds.Chain:
    return ds.load_chain(CHAIN)


@pytest.fixture(scope="module")
def crops() -> HQCrops:
    return HQCrops()


def test_wrap_a_plain_dataloader_of_test_images_in_a_few_lines(data_dir):
    paths = [str(p) for p in list_images(data_dir / "hq")]
    images = [{"gt": load_image(p)[:, :64, :64], "path": p} for p in paths]
    stream = ds.PairStream(DataLoader(images, batch_size=2), "identity", device="cpu")
    batches = list(stream)
    assert [k for b in batches for k in b["key"]] == paths
    assert all(torch.equal(b["lq"], b["gt"]) and b["gt"].shape[1:] == (3, 64, 64) for b in batches)


def test_lq_matches_the_chain_run_with_the_documented_per_sample_seeds(chain, crops):
    stream = ds.PairStream(loader(crops), chain, device="cpu", seed=5)
    stream.set_epoch(2)
    batch = next(iter(stream))
    keys = batch["key"]
    expected = chain(batch["gt"], seed=sample_seeds(5, 2, keys))
    assert torch.equal(batch["lq"], expected.lq)
    assert torch.equal(batch["seeds"], sample_seeds(5, 2, keys))
    assert batch["epoch"] == 2
    assert torch.equal(chain(batch["gt"], params=batch["params"]).lq, batch["lq"])  # replayable params
    assert batch["lq"].shape == (4, 3, 16, 16)


def test_batch_size_and_shuffle_do_not_change_any_samples_lq(chain, crops):
    a = collect(ds.PairStream(loader(crops, batch_size=4), chain, device="cpu", seed=1), epochs=(0, 1))
    b = collect(ds.PairStream(loader(crops, batch_size=3, shuffle=True, seed=9), chain, device="cpu", seed=1),
                epochs=(0, 1))
    assert a.keys() == b.keys() and len(a) == 2 * len(crops)
    for k in a:
        assert torch.equal(a[k], b[k]), k  # exact: the README promises bit-identical batch independence
    # epochs and seeds change the LQ
    assert not torch.allclose(a[(0, crops[0]["key"])], a[(1, crops[0]["key"])])
    c = collect(ds.PairStream(loader(crops), chain, device="cpu", seed=2), epochs=(0,))
    assert not torch.allclose(a[(0, crops[0]["key"])], c[(0, crops[0]["key"])])


def test_keyless_loader_uses_running_sample_index_and_accepts_uint8(chain):
    images = (torch.rand(6, 3, 16, 16) * 255).round().to(torch.uint8)
    plain = DataLoader(images, batch_size=4)
    stream = ds.PairStream(plain, chain, device="cpu", seed=0)
    batches = list(stream)
    assert [b["key"] for b in batches] == [["0", "1", "2", "3"], ["4", "5"]]
    assert batches[0]["gt"].dtype == torch.float32
    assert torch.equal(batches[1]["gt"], images[4:].float() / 255)
    # the index fallback is the same sample as a loader giving index keys
    keyed = DataLoader([{"hq": images[i].float() / 255, "index": i} for i in range(6)], batch_size=3)
    again = {k: v for b in ds.PairStream(keyed, chain, device="cpu") for k, v in zip(b["key"], b["lq"])}
    assert torch.equal(again["5"], batches[1]["lq"][1])


def test_aligned_pair_crop_with_flips_and_rotation(crops):
    halve = ds.load_chain({"stages": [{"type": "test_halve"}]})
    stream = ds.PairStream(loader(crops, batch_size=10), halve, device="cpu",
                           crop=dict(gt_size=8, flip=True, rot90=True))
    batch = next(iter(stream))
    assert batch["gt"].shape == (10, 3, 8, 8) and batch["lq"].shape == (10, 3, 4, 4)
    # the LQ crop is exactly the degradation of the GT crop: same region, same flips/rotation
    assert torch.allclose(F.avg_pool2d(batch["gt"], 2), batch["lq"], atol=1e-6)
    params = batch["crop"]
    assert params["top"].max() <= 16 - 4 and len(set(params["top"].tolist())) > 1
    assert params["hflip"].any() and params["transpose"].any() and not params["transpose"].all()
    # without flip/rot90 the GT crop is a plain window of the input
    plain = ds.PairStream(loader(crops, batch_size=10), halve, device="cpu", crop=dict(gt_size=8, flip=False,
                                                                                   rot90=False))
    b = next(iter(plain))
    t, l = b["crop"]["top"][0].item() * 2, b["crop"]["left"][0].item() * 2
    assert torch.equal(b["gt"][0], crops[0]["gt"][:, t:t + 8, l:l + 8])


@pytest.mark.parametrize("crop, message", [
    (dict(gt_size=7), "divisible by the chain scale"),
    (dict(gt_size=64), "larger than the images"),
    (dict(size=8), "unknown key"),
    (dict(gt_size=8, flip="yes"), "crop.flip"),
])
def test_bad_crop_configs_name_the_problem(chain, crops, crop, message):
    with pytest.raises(ValueError, match=message):
        list(ds.PairStream(loader(crops), chain, device="cpu", crop=crop))


@pytest.mark.parametrize("data, message", [
    (torch.rand(4, 1, 8, 8), r"3 \(RGB\) channels"),
    (torch.rand(4, 3, 8, 8) * 2, r"\[0, 1\]"),
    (torch.full((4, 3, 8, 8), float("nan")), "NaN or Inf"),
    (torch.randint(0, 255, (4, 3, 8, 8), dtype=torch.int32), "floating-point"),
    ([{"image": torch.rand(3, 8, 8)}] * 4, "'gt' or 'hq'"),
    ([(torch.rand(3, 8, 8), 0)] * 4, "tensor or a dict"),
])
def test_wrong_loader_output_fails_on_the_first_batch_naming_what_was_expected(chain, data, message):
    with pytest.raises((ValueError, TypeError), match=message):
        next(iter(ds.PairStream(DataLoader(data, batch_size=4), chain, device="cpu")))


class Boom(ds.Transform):
    """Fails on a short batch (the last one), so the error happens in the background thread."""

    def __init__(self) -> None:
        pass

    def apply(self, batch, params):
        if batch.shape[0] < 4:
            raise RuntimeError("boom in stage")
        return batch


def test_background_error_surfaces_in_the_consumer_with_its_traceback(crops, monkeypatch):
    from degrade_stream.core import registry

    monkeypatch.setitem(registry._TRANSFORMS, "test_stream_boom", Boom)  # removed again after the test
    Boom.type_name = "test_stream_boom"
    stream = ds.PairStream(loader(crops, batch_size=4), ds.load_chain({"stages": [{"type": "test_stream_boom"}]}),
                           device="cpu", prefetch=2)
    it = iter(stream)
    assert len(next(it)["key"]) == 4 and len(next(it)["key"]) == 4
    with pytest.raises(RuntimeError, match="boom in stage") as info:
        next(it)
    frames = [f.name for f in info.traceback]
    assert "apply" in frames and "_make_pair" in frames  # the background frames are kept
    assert any("background thread" in note for note in info.value.__notes__)


def _prefetch_threads() -> set:
    return {t for t in threading.enumerate() if t.name == "degrade_stream-prefetch" and t.is_alive()}


def test_close_mid_epoch_stops_the_background_thread(chain):
    before = _prefetch_threads()
    stream = ds.PairStream(DataLoader(torch.rand(40, 3, 8, 8), batch_size=2), chain, device="cpu", prefetch=3)
    it = iter(stream)
    next(it)
    next(it)
    assert _prefetch_threads() - before
    stream.close()
    assert not _prefetch_threads() - before
    assert list(it) == []
    # a closed stream can start a fresh epoch
    assert len(list(stream)) == 20
    stream.close()


def test_close_mid_epoch_shuts_down_the_loaders_worker_processes(chain, crops):
    def new_children() -> set:  # other tests' processes may still be winding down: compare, don't count
        return set(multiprocessing.active_children()) - before

    before = set(multiprocessing.active_children())
    stream = ds.PairStream(DataLoader(crops, batch_size=2, num_workers=1), chain, device="cpu", prefetch=2)
    it = iter(stream)
    next(it)
    assert new_children()
    stream.close()
    deadline = time.monotonic() + 10
    while new_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not new_children()


def test_dropping_a_half_read_stream_stops_its_thread(chain):
    before = _prefetch_threads()
    stream = ds.PairStream(DataLoader(torch.rand(40, 3, 8, 8), batch_size=2), chain, device="cpu", prefetch=2)
    it = iter(stream)
    next(it)
    del it, stream
    deadline = time.monotonic() + 5
    while _prefetch_threads() - before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _prefetch_threads() - before


def test_prefetch_zero_runs_inline_and_gives_the_same_pairs(chain, crops):
    a = collect(ds.PairStream(loader(crops), chain, device="cpu", prefetch=0))
    b = collect(ds.PairStream(loader(crops), chain, device="cpu", prefetch=2))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_constructor_rejects_bad_arguments(chain, crops):
    with pytest.raises(ValueError, match="prefetch"):
        ds.PairStream(loader(crops), chain, device="cpu", prefetch=-1)
    with pytest.raises(ValueError, match="seed"):
        ds.PairStream(loader(crops), chain, device="cpu", seed="0")
    with pytest.raises(ValueError, match="cache"):
        ds.PairStream(loader(crops), chain, device="cpu", cache="dir")
    with pytest.raises(ValueError, match="epoch"):
        ds.PairStream(loader(crops), chain, device="cpu").set_epoch(-2)
    with pytest.raises(ValueError, match="device"):
        ds.PairStream(loader(crops), chain, device="gpu0")


def test_realesrgan_pairs_do_not_depend_on_batch_size_or_shuffle():
    chain = ds.load_chain("realesrgan")
    crops = HQCrops(size=32, per_image=1)
    a = collect(ds.PairStream(loader(crops, batch_size=5), chain, device="cpu", seed=1))
    b = collect(ds.PairStream(loader(crops, batch_size=2, shuffle=True, seed=2), chain, device="cpu", seed=1))
    assert a.keys() == b.keys() and len(a) == 5
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert next(iter(a.values())).shape == (3, 8, 8)


class ThreadsSeen:
    """An iterable loader (iterated by PairStream's background thread) recording torch's intra-op threads."""

    def __init__(self, batches: int = 3) -> None:
        self.batches, self.seen = batches, []

    def __iter__(self):
        for i in range(self.batches):
            self.seen.append((threading.current_thread().name, torch.get_num_threads()))
            yield {"gt": torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(i)), "key": [f"{i}a", f"{i}b"]}


def test_background_thread_uses_its_own_intra_op_threads_and_leaves_the_process_default():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        auto, one = ThreadsSeen(), ThreadsSeen()
        collect(ds.PairStream(auto, "identity", device="cpu"))  # default on CPU: half of torch's threads
        collect(ds.PairStream(one, "identity", device="cpu", threads=1))
        assert auto.seen == one.seen == [("degrade_stream-prefetch", 1)] * 3
        assert torch.get_num_threads() == 2
        later = []
        thread = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        assert later == [2]  # threads started afterwards get the process default, not the background's
        inline = ThreadsSeen()
        collect(ds.PairStream(inline, "identity", device="cpu", prefetch=0, threads=1))  # no thread: no change
        assert inline.seen == [(threading.current_thread().name, 2)] * 3
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match=r"threads must be an int >= 1.*got 0"):
        ds.PairStream(ThreadsSeen(), "identity", device="cpu", threads=0)
    with pytest.raises(ValueError, match=r"threads must be an int >= 1.*got True"):
        ds.PairStream(ThreadsSeen(), "identity", device="cpu", threads=True)


def test_range_check_in_full_on_the_first_batch_then_on_a_pixel_sample():
    good = torch.rand(2, 3, 16, 16) * 0.5
    off_grid = good.clone()
    off_grid[1, 2, 5, 3] = 1.5  # not on the 1-in-8 rows/columns sampled after the first batch
    on_grid = good.clone()
    on_grid[1, 2, 8, 0] = float("nan")

    def first(batches, prefetch=2):
        return collect(ds.PairStream(batches, "identity", device="cpu", prefetch=prefetch))

    with pytest.raises(ValueError, match=r"values must be in \[0, 1\], got range \[.*, 1\.5\]"):
        first([off_grid, good])
    assert len(first([good, off_grid])) == 4  # a later batch is checked on the sample only
    for prefetch in (0, 2):
        with pytest.raises(ValueError, match="NaN or Inf"):
            first([good, on_grid], prefetch)
        with pytest.raises(ValueError, match=r"values must be in \[0, 1\]"):
            first([good, good * 255], prefetch)

    class Passes:  # a loader whose every pass yields other batches
        def __init__(self, *passes):
            self.passes = list(passes)

        def __iter__(self):
            return iter(self.passes.pop(0))

    stream = ds.PairStream(Passes([good, off_grid], [off_grid]), "identity", device="cpu")
    assert len(collect(stream)) == 4
    with pytest.raises(ValueError, match=r"\[0, 1\]"):  # every pass starts with a full check of its first batch
        collect(stream, epochs=(1,))
