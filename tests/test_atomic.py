"""atomic.py: the one temp-name scheme, the file and folder writers, and the one stale-temp rule."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from degrade_stream import atomic
from degrade_stream.atomic import (HOST_MARK, NAME_MAX, STALE_TEMP_AGE_S, atomic_folder, is_stale_temp, is_temp_name,
                                   remove_stale_temps, temp_path_for, temp_target, temp_writer, write_bytes_atomic)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_temp_names_are_unique_per_write_and_name_their_writer(tmp_path):
    first, second = temp_path_for(tmp_path / "a.png"), temp_path_for(tmp_path / "a.png")
    assert first != second and first.parent == tmp_path
    assert first.name.startswith(f".a.png.{os.getpid()}.{HOST_MARK}.") and first.name.endswith(".tmp")
    assert temp_writer(first.name) == (os.getpid(), HOST_MARK) and temp_target(first.name) == "a.png"
    assert temp_writer(temp_path_for(tmp_path / "d", "old").name) == (os.getpid(), HOST_MARK)
    for foreign in (".a.png.123.tmp", ".x.lq.1.2.3.part", "a.png", ".notes.tmp", ".thesis.old"):
        assert temp_writer(foreign) == (None, None) and temp_target(foreign) is None and not is_temp_name(foreign)


@pytest.mark.parametrize("name", ["x" * 251 + ".png", "é" * 125 + ".png", "a" * 199 + "é" * 26 + ".png"])
def test_temp_names_of_the_longest_legal_names_fit_in_name_max(tmp_path, name):
    """Issue 23 item 11: a 240-byte name gave a temp name over 255 bytes ('File name too long')."""
    assert len(name.encode()) <= NAME_MAX
    names = {temp_path_for(tmp_path / name).name for _ in range(20)}
    assert len(names) == 20 and all(len(n.encode()) <= NAME_MAX for n in names)
    for temp in names:
        (tmp_path / temp).write_bytes(b"x")  # the file system takes it
        assert is_temp_name(temp) and temp_writer(temp) == (os.getpid(), HOST_MARK)
    assert write_bytes_atomic(tmp_path / name, b"ok").read_bytes() == b"ok"


def test_the_stale_rule():
    now, old, fresh = 1e9, 1e9 - STALE_TEMP_AGE_S - 1, 1e9 - 10
    dead, alive = _dead_pid(), os.getpid()
    other = "0" * 8 if HOST_MARK != "0" * 8 else "1" * 8
    assert is_stale_temp(f".a.{dead}.{HOST_MARK}.0123abcd.tmp", fresh, now)  # writer gone on this host
    assert not is_stale_temp(f".a.{alive}.{HOST_MARK}.0123abcd.tmp", old, now)  # writer still running
    assert not is_stale_temp(f".a.{dead}.{other}.0123abcd.tmp", fresh, now)  # another host: by age only
    assert is_stale_temp(f".a.{alive}.{other}.0123abcd.old", old, now)
    for foreign in (f".a.{dead}.tmp", ".x.lq.1.2.3.part", ".notes.tmp"):  # not the scheme: never stale
        assert not is_stale_temp(foreign, old, now)


def test_remove_stale_temps_removes_only_the_scheme_and_the_owned_targets(tmp_path):
    dead = _dead_pid()
    stale_file = tmp_path / f".a.png.{dead}.{HOST_MARK}.0123abcd.tmp"
    stale_dir = tmp_path / f".step_1.{dead}.{HOST_MARK}.0123abcd.old"
    other_target = tmp_path / f".notes.txt.{dead}.{HOST_MARK}.0123abcd.tmp"
    stale_file.write_text("half")
    stale_dir.mkdir()
    (stale_dir / "model.safetensors").write_bytes(b"half")
    other_target.write_text("half")
    kept = [tmp_path / f".a.png.{os.getpid()}.{HOST_MARK}.0123abcd.tmp", tmp_path / ".fresh.part",
            tmp_path / f".a.{dead}.tmp", tmp_path / ".x.lq.1.2.3.part", tmp_path / ".notes.tmp", tmp_path / "a.png"]
    for path in kept:
        path.write_text("k")
        os.utime(path, (1, 1))
    assert remove_stale_temps(tmp_path, owns=lambda target: target != "notes.txt") == 2
    assert remove_stale_temps(tmp_path) == 1  # every target: the last one too
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
