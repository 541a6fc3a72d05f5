"""PairCache never serves an entry made from other pixels, by another model, or with an altered header
(issue 23 items 2, 3 and 4)."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import core_helpers  # noqa: F401  (registers the test_noise stage)
import degrade_stream as ds
from degrade_stream.diffusion.denoiser import bundled_checkpoint
from degrade_stream.stream import entry


def _entries(root: Path) -> list[Path]:
    return sorted(root.rglob("*.lq"))


def _images(n: int, height: int = 16, width: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, height, width, generator=torch.Generator().manual_seed(seed))


def test_the_same_key_with_new_pixels_is_a_miss_not_the_old_lq(tmp_path):
    chain = ds.load_chain({"stages": [{"type": "test_noise", "sigma_range": [0.1, 0.2]}]})
    cache = ds.PairCache(tmp_path)
    first, second = _images(1, seed=1), _images(1, seed=2)
    old, _ = cache.synthesize(chain, first, ["a.png"], seed=0)
    new, info = cache.synthesize(chain, second, ["a.png"], seed=0)
    assert not info.hit.any()
    expected = ds.PairCache(tmp_path / "fresh").synthesize(chain, second, ["a.png"], seed=0)[0]
    assert torch.equal(new, expected) and not torch.equal(new, old)
    again, info = cache.synthesize(chain, second, ["a.png"], seed=0)
    assert info.hit.all() and torch.equal(again, new)
    one_level = second.clone()
    one_level[0, 1, 3, 4] += 1e-6  # any pixel, any amount
    assert not cache.synthesize(chain, one_level, ["a.png"], seed=0)[1].hit.any()


def test_verify_hq_off_trusts_keys_as_documented(tmp_path):
    chain = ds.load_chain("identity")
    cache = ds.PairCache(tmp_path, verify_hq=False)
    old, _ = cache.synthesize(chain, _images(1, seed=1), ["a.png"], seed=0)
    served, info = cache.synthesize(chain, _images(1, seed=2), ["a.png"], seed=0)
    assert info.hit.all() and torch.equal(served, old)
    with pytest.raises(ValueError, match="verify_hq must be True or False"):
        ds.PairCache(tmp_path, verify_hq="yes")


def _rewrite_header(path: Path, old: tuple[int, int, int], new: tuple[int, int, int]) -> None:
    """Replace the entry header's (C, H, W) fields (found by their value, whatever the header layout)."""
    blob = bytearray(path.read_bytes())
    at = blob.find(struct.pack("<III", *old), 0, 64)
    assert at > 0
    struct.pack_into("<III", blob, at, *new)
    path.write_bytes(bytes(blob))


@pytest.mark.parametrize("shape", [(3, 32, 16), (1, 48, 32), (6, 16, 16)], ids=["h_w_swapped", "c_1", "c_6"])
def test_an_altered_header_is_a_corrupt_entry_never_a_hit_of_another_shape(tmp_path, shape):
    """The same pixel count under another shape: before the fix the checksum left the header out and the
    entry was served as a hit of shape ``shape``."""
    chain = ds.load_chain("identity")
    hq = _images(1, 16, 32)
    lq, _ = ds.PairCache(tmp_path).synthesize(chain, hq, ["a.png"], seed=0)
    (path,) = _entries(tmp_path)
    _rewrite_header(path, (3, 16, 32), shape)
    cache = ds.PairCache(tmp_path)
    served, info = cache.synthesize(chain, hq, ["a.png"], seed=0)
    assert not info.hit.any() and cache.stats()["recomputed"] == 1
    assert served.shape == (1, 3, 16, 32) and torch.equal(served, lq)


def test_the_checksum_covers_every_header_byte(tmp_path):
    pixels = torch.arange(3 * 4 * 5, dtype=torch.uint8).reshape(3, 4, 5).numpy()
    blob = entry.encode_entry("id", pixels)
    assert (entry.decode_entry(blob, "id") == pixels).all()
    digest_at = struct.calcsize("<4sHBBHIII")
    for i in range(digest_at):  # every byte before the digest
        for flip in (0x01, 0x80):
            bad = bytearray(blob)
            bad[i] ^= flip
            with pytest.raises(entry.CorruptEntry):
                entry.decode_entry(bytes(bad), "id")


def _two_step_run(root: Path) -> Path:
    """A training --out folder with steps 1 and 2 (different weights of the bundled model), latest = 1."""
    source = bundled_checkpoint()
    weights = load_file(str(source / "ema.safetensors"))
    for step, scale in ((1, 1.0), (2, 1.01)):
        folder = root / f"step_{step:08d}"
        folder.mkdir(parents=True)
        shutil.copy(source / "config.yaml", folder / "config.yaml")
        save_file({k: v * scale for k, v in weights.items()}, str(folder / "ema.safetensors"))
    (root / "latest").write_text("step_00000001\n")
    return root


def test_a_run_folder_that_now_resolves_to_another_step_is_a_miss(tmp_path):
    """Before the fix a refiner named by its run folder kept its cache entries across retraining: the
    entries of step 1 were served after 'latest' moved to step 2."""
    run = _two_step_run(tmp_path / "run")
    chain = ds.load_chain({"stages": [{"type": "ddpm_refine", "checkpoint": str(run), "t_range": [0, 0]}]})
    cache = ds.PairCache(tmp_path / "cache")
    hq = _images(2)
    cache.synthesize(chain, hq, ["a", "b"], seed=0)
    assert cache.synthesize(chain, hq, ["a", "b"], seed=0)[1].hit.all()
    (run / "latest").write_text("step_00000002\n")
    assert not cache.synthesize(chain, hq, ["a", "b"], seed=0)[1].hit.any()
    assert cache.synthesize(chain, hq, ["a", "b"], seed=0)[1].hit.all()
    folders = sorted(p.name for p in (tmp_path / "cache").iterdir() if p.is_dir())
    assert len(folders) == 2  # one per model: the old entries can be deleted as a folder


def test_weights_rewritten_in_place_are_a_miss(tmp_path):
    run = _two_step_run(tmp_path / "run")
    step = run / "step_00000001"
    chain = ds.load_chain({"stages": [{"type": "ddpm_refine", "checkpoint": str(step), "t_range": [0, 0]}]})
    cache = ds.PairCache(tmp_path / "cache")
    hq = _images(1)
    cache.synthesize(chain, hq, ["a"], seed=0)
    shutil.copy(run / "step_00000002" / "ema.safetensors", step / "ema.safetensors")
    assert not cache.synthesize(chain, hq, ["a"], seed=0)[1].hit.any()
