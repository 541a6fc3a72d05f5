"""atomic.py: the one temp-name scheme, the file and folder writers, and the one stale-temp rule."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from degrade_stream import atomic
from degrade_stream.atomic import (HOST_MARK, STALE_TEMP_AGE_S, atomic_folder, is_stale_temp, remove_stale_temps,
                                   temp_path_for, temp_writer, write_bytes_atomic)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_temp_names_are_unique_per_write_and_name_their_writer(tmp_path):
    first, second = temp_path_for(tmp_path / "a.png"), temp_path_for(tmp_path / "a.png")
    assert first != second and first.parent == tmp_path
    assert first.name.startswith(f".a.png.{os.getpid()}.{HOST_MARK}.") and first.name.endswith(".tmp")
    assert temp_writer(first.name) == (os.getpid(), HOST_MARK)
    assert temp_writer(temp_path_for(tmp_path / "d", "old").name) == (os.getpid(), HOST_MARK)
    assert temp_writer(".a.png.123.tmp") == (123, None)  # an earlier version's name: this host's
    assert temp_writer(".x.lq.1.2.3.part") == (None, None)
    assert temp_writer("a.png") == (None, None)


def test_the_stale_rule():
    now, old, fresh = 1e9, 1e9 - STALE_TEMP_AGE_S - 1, 1e9 - 10
    dead, alive = _dead_pid(), os.getpid()
    other = "0" * 8 if HOST_MARK != "0" * 8 else "1" * 8
    assert is_stale_temp(f".a.{dead}.{HOST_MARK}.0123abcd.tmp", fresh, now)  # writer gone on this host
    assert not is_stale_temp(f".a.{alive}.{HOST_MARK}.0123abcd.tmp", old, now)  # writer still running
    assert is_stale_temp(f".a.{dead}.tmp", fresh, now) and not is_stale_temp(f".a.{alive}.old", old, now)
    assert not is_stale_temp(f".a.{dead}.{other}.0123abcd.tmp", fresh, now)  # another host: by age only
    assert is_stale_temp(f".a.{alive}.{other}.0123abcd.tmp", old, now)
    assert not is_stale_temp(".x.lq.1.2.3.part", fresh, now) and is_stale_temp(".x.lq.1.2.3.part", old, now)


def test_remove_stale_temps_removes_files_and_folders_and_nothing_else(tmp_path):
    dead = _dead_pid()
    stale_file, stale_dir = tmp_path / f".a.png.{dead}.tmp", tmp_path / f".step_1.{dead}.{HOST_MARK}.0123abcd.old"
    stale_file.write_text("half")
    stale_dir.mkdir()
    (stale_dir / "model.safetensors").write_bytes(b"half")
    old_part = tmp_path / ".x.lq.1.2.3.part"
    old_part.write_bytes(b"x")
    os.utime(old_part, (1, 1))
    kept = [tmp_path / f".a.png.{os.getpid()}.tmp", tmp_path / ".fresh.part", tmp_path / f".a.{dead}.keep",
            tmp_path / "a.png"]
    for path in kept:
        path.write_text("k")
    assert remove_stale_temps(tmp_path) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in kept)
    assert remove_stale_temps(tmp_path / "absent") == 0


def test_write_bytes_atomic_leaves_no_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "e.bin"
    assert write_bytes_atomic(target, b"abc") == target and target.read_bytes() == b"abc"

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "open", fail, raising=False)
    with pytest.raises(OSError, match="No space left"):
        write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"abc" and sorted(p.name for p in tmp_path.iterdir()) == ["e.bin"]


def test_atomic_folder_replaces_a_folder_or_leaves_it_as_it_was(tmp_path):
    dest = tmp_path / "ckpt"
    with atomic_folder(dest) as tmp:
        (tmp / "v").write_text("1")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_folder(dest) as tmp:
            (tmp / "v").write_text("2")
            raise RuntimeError("interrupted")
    assert (dest / "v").read_text() == "1" and sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    started = time.time()
    with atomic_folder(dest) as tmp:
        (tmp / "w").write_text("3")
    assert sorted(p.name for p in dest.iterdir()) == ["w"] and dest.stat().st_mtime >= started - 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
