"""Issue 23 item 15: a failed write -- a full disk above all -- is an error naming the file being written, from
every writer: pairs, the pair cache, checkpoints (safetensors and torch.save), the training log."""
from __future__ import annotations

import errno
import pathlib

import pytest
import torch
from safetensors import SafetensorError

import degrade_stream as ds
from degrade_stream import atomic
from degrade_stream.cli.main import error_line
from degrade_stream.diffusion import checkpoint
from degrade_stream.diffusion.train_log import TrainLog
from degrade_stream.io import save_image
from reliability_helpers import run_in_process

FULL = OSError(errno.ENOSPC, "No space left on device")  # what write() raises: no file name


def test_synthesize_names_the_pair_it_could_not_write(tmp_path, monkeypatch):
    (tmp_path / "hq").mkdir()
    save_image(torch.rand(3, 32, 32), tmp_path / "hq" / "photo.png")
    real_open, real_write_bytes = open, pathlib.Path.write_bytes

    class FullFile:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, data):
            raise FULL

    def full_disk_open(path, *args, **kwargs):  # the pair writers' temp files: atomic.write_bytes_atomic
        return FullFile() if pathlib.Path(path).name.startswith(".photo") else real_open(path, *args, **kwargs)

    def full_disk_write_bytes(self, data):  # and io.save_image
        if self.name.startswith(".photo"):
            raise FULL
        return real_write_bytes(self, data)

    monkeypatch.setattr(atomic, "open", full_disk_open, raising=False)
    monkeypatch.setattr(pathlib.Path, "write_bytes", full_disk_write_bytes)
    out = tmp_path / "out"
    result = run_in_process("synthesize", "--config", "bicubic", "--hq", tmp_path / "hq", "--out", out, "--no-progress")
    assert result.returncode == 2, result.stderr
    assert "photo.png: No space left on device" in result.stderr and str(out) in result.stderr
    assert not list(out.rglob(".photo*"))  # no temp file left behind


@pytest.mark.parametrize("failure", [FULL, OSError(errno.EIO, "Input/output error")])
def test_the_cache_names_where_it_could_not_write(tmp_path, monkeypatch, failure):
    """A full disk turns the cache's writes off with a warning naming the cache (pairs are still made); any
    other write failure is an error naming the entry's file."""
    class FailingFile:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, data):
            raise failure

    monkeypatch.setattr(atomic, "open", FailingFile, raising=False)
    cache = ds.PairCache(tmp_path / "cache")
    chain, hq = ds.load_chain("bicubic"), torch.rand(1, 3, 32, 32)
    if failure.errno == errno.ENOSPC:
        with pytest.warns(RuntimeWarning, match=f"disk full writing to '{tmp_path / 'cache'}'"):
            lq, _ = cache.synthesize(chain, hq, keys=["a"], seed=0)
        assert lq.shape == (1, 3, 8, 8)
        return
    with pytest.raises(OSError) as err:
        cache.synthesize(chain, hq, keys=["a"], seed=0)
    assert str(err.value.filename).startswith(str(tmp_path / "cache")) and str(err.value.filename).endswith(".lq")
    assert error_line(err.value).startswith(str(tmp_path / "cache"))


def test_a_checkpoint_write_names_the_file(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise SafetensorError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, '
                              'message: "No space left on device" })')

    monkeypatch.setattr(checkpoint, "save_file", full)
    state = {"w": torch.zeros(2)}
    with pytest.raises(OSError) as err:
        checkpoint.write_checkpoint(tmp_path / "run", 5, state, state, None, {"model": {}})
    assert err.value.errno == errno.ENOSPC
    assert err.value.filename == str(tmp_path / "run" / "step_00000005" / "model.safetensors")
    assert not list((tmp_path / "run").glob("*step_00000005*"))  # the temp folder is gone, nothing half-written


def test_a_training_state_write_names_the_file(tmp_path, monkeypatch):
    def failed(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos 64 vs 0: file write failed")

    monkeypatch.setattr(checkpoint.torch, "save", failed)
    state = {"w": torch.zeros(2)}
    with pytest.raises(OSError) as err:
        checkpoint.write_checkpoint(tmp_path / "run", 5, state, state, {"step": 5}, {"model": {}})
    assert err.value.filename == str(tmp_path / "run" / "step_00000005" / "state.pt")
    assert "state.pt: " in error_line(err.value)


def test_the_training_log_names_its_file(tmp_path, monkeypatch):
    log = TrainLog(tmp_path, 0)

    def full_open(self, *args, **kwargs):
        raise FULL

    monkeypatch.setattr(pathlib.Path, "open", full_open)
    with pytest.raises(OSError) as err:
        log.write(1, 0.5, 1e-4)
    assert err.value.filename == str(tmp_path / "train_log.csv") and err.value.errno == errno.ENOSPC
