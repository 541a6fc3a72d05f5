"""Issue 23 item 1: the stale-temp cleanup deletes only what this project wrote.

A user's hidden files and folders whose names end in .tmp, .old or .part -- old, or even named like the
project's temp scheme when they lie outside the folders the project owns -- survive synthesize --out,
train-ddpm's checkpoint cleanup and a PairCache root. Temp files the project wrote there are still removed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import torch

import degrade_stream as ds
from degrade_stream.atomic import HOST_MARK
from degrade_stream.diffusion.checkpoint import remove_stale_checkpoint_temps, write_checkpoint
from reliability_helpers import run_in_process as run_cli

LONG_AGO = 1_000_000  # an mtime far older than the stale age


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _user_files(folder: Path) -> list[Path]:
    """A user's own files with names a careless cleanup takes for temp files, all made to look old."""
    dead = _dead_pid()
    thesis = folder / ".thesis.old"
    thesis.mkdir(parents=True)
    files = [thesis / "ch1.tex", folder / ".notes.tmp", folder / ".x.part", folder / f".draft.{dead}.tmp",
             folder / f".mine.{dead}.{HOST_MARK}.0123abcd.tmp"]  # the scheme, but no name the project writes here
    for path in files:
        path.write_text("the user's work")
    for path in [*files, thesis]:
        os.utime(path, (LONG_AGO, LONG_AGO))
    return files


def _project_temp(folder: Path, target: str) -> Path:
    """A temp file as a killed writer of this project leaves it (dead pid, this host)."""
    path = folder / f".{target}.{_dead_pid()}.{HOST_MARK}.0123abcd.tmp"
    path.write_bytes(b"half")
    return path


def test_synthesize_out_keeps_the_users_files_and_removes_its_own_temps(tmp_path, data_dir):
    hq, out = tmp_path / "hq", tmp_path / "d"
    hq.mkdir()
    shutil.copy(data_dir / "hq" / "swinir_set5__head.png", hq / "head.png")
    mine = _user_files(out)
    first = run_cli("synthesize", "--config", "bicubic", "--hq", hq, "--out", out, "--no-progress")
    assert first.returncode == 0, first.stderr
    ours = [_project_temp(out / "lq", "head.png"), _project_temp(out / "gt", "head.png"),
            _project_temp(out, "pairs.jsonl")]
    again = run_cli("synthesize", "--config", "bicubic", "--hq", hq, "--out", out, "--no-progress")
    assert again.returncode == 0, again.stderr
    assert [p for p in mine if not p.is_file()] == []
    assert not [p for p in ours if p.exists()]


def test_train_ddpm_checkpoint_cleanup_keeps_the_users_files(tmp_path):
    out = tmp_path / "run"
    mine = _user_files(out)
    ours = [_project_temp(out, "step_00000002"), _project_temp(out, "latest")]
    staging = out / f".step_00000001.{_dead_pid()}.{HOST_MARK}.0123abcd.old"
    staging.mkdir()
    (staging / "model.safetensors").write_bytes(b"half")
    assert remove_stale_checkpoint_temps(out) == 3
    write_checkpoint(out, 1, {"w": torch.zeros(2)}, None, None, {"model": {}})  # cleans up before writing too
    assert [p for p in mine if not p.is_file()] == []
    assert not [p for p in [*ours, staging] if p.exists()]


def test_pair_cache_root_keeps_the_users_files_through_scans_and_eviction(tmp_path):
    root = tmp_path / "cache"
    mine = _user_files(root) + _user_files(root / "notes")
    own_lq = root / "data" / "mine.lq"  # a user's file with the entry suffix, outside the cache's layout
    own_lq.parent.mkdir()
    own_lq.write_bytes(b"x" * 4096)
    os.utime(own_lq, (LONG_AGO, LONG_AGO))
    chain = ds.load_chain("identity")
    cache = ds.PairCache(root, max_bytes=3000)  # a bound that forces eviction on every write
    generator = torch.Generator().manual_seed(0)
    for i in range(4):
        cache.synthesize(chain, torch.rand(1, 3, 16, 16, generator=generator), [f"k{i}"], seed=0)
    assert cache.stats()["evictions"] > 0
    assert [p for p in mine if not p.is_file()] == []
    assert own_lq.read_bytes() == b"x" * 4096
