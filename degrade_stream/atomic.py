"""Atomic file and folder writes, and the cleanup of temp files left by killed writers.

A file or folder is first written under a temp name beside its target and renamed into place, so a
reader never sees a partial one, and an interrupted or failed write leaves nothing at the target
(``os.replace`` is atomic within one filesystem).

Temp names, one scheme for every writer: ``.NAME.PID.HOST.TOKEN.tmp`` (``.old`` for a folder being
replaced), where PID is the writing process, HOST a short hash of its machine's name and TOKEN unique
per write, so threads and processes writing the same target never share a temp file.

The stale rule (``is_stale_temp``): a temp file is stale when its writer pid, encoded in its name, is
not alive on this host; for names without a pid (``.part``, ``.tmp``) or written on another host
(whose processes this one cannot see), when it is older than ``STALE_TEMP_AGE_S``. Names ``.NAME.PID.tmp``
without a host mark, written by earlier versions, count as this host's.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import socket
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

#: A temp file without a live writer on this host is removed once it is this old (seconds).
STALE_TEMP_AGE_S = 3600.0
TEMP_SUFFIXES = (".tmp", ".old", ".part")
HOST_MARK = hashlib.blake2b(socket.gethostname().encode("utf-8"), digest_size=4).hexdigest()
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.([0-9a-f]{8})\.[0-9a-f]{8}\.(tmp|old)$")
_PID_ONLY_NAME = re.compile(r"^\..+\.(\d+)\.(tmp|old)$")


def temp_path_for(path: str | os.PathLike, kind: str = "tmp") -> Path:
    """A new temp name beside ``path``, unique to this call: ``.NAME.PID.HOST.TOKEN.KIND``."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{HOST_MARK}.{uuid.uuid4().hex[:8]}.{kind}")


def _remove(path: Path) -> None:
    """Delete a file or folder if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path to write one file; on success it replaces ``path``, on any error it is removed."""
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


@contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty temp folder; on success it takes the place of ``path`` (a folder already there is
    swapped out first and then deleted), on any error it is removed and ``path`` is left as it was."""
    path = Path(path)
    tmp = temp_path_for(path)
    tmp.mkdir(parents=True)
    old = None
    try:
        yield tmp
        if path.exists():
            old = temp_path_for(path, "old")
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException:
        if old is not None and old.exists() and not path.exists():
            os.replace(old, path)  # put the previous folder back
        _remove(tmp)
        raise
    if old is not None:
        _remove(old)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write a UTF-8 text file atomically."""
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Write a JSON report (indented, UTF-8, trailing newline) atomically, creating its folder."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write a binary file atomically."""
    with atomic_target(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return Path(path)


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of the temp names written here (hidden, ending .tmp, .old or .part)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIXES)


def temp_writer(name: str) -> tuple[int | None, str | None]:
    """(pid, host mark) of the writer encoded in a temp name; host None for names without a mark (this
    host's, by an earlier version), (None, None) for names without a pid."""
    match = _TEMP_NAME.match(name)
    if match:
        return int(match.group(1)), match.group(2)
    match = _PID_ONLY_NAME.match(name)
    return (int(match.group(1)), None) if match else (None, None)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def is_stale_temp(name: str, mtime: float, now: float | None = None,
                  max_age_s: float = STALE_TEMP_AGE_S) -> bool:
    """The stale rule (module docstring) for a temp file ``name`` last modified at ``mtime``."""
    pid, host = temp_writer(name)
    if pid is not None and host in (None, HOST_MARK):
        return not process_alive(pid)
    return mtime < (time.time() if now is None else now) - max_age_s


def remove_stale_temps(folder: str | os.PathLike, max_age_s: float = STALE_TEMP_AGE_S) -> int:
    """Delete the stale temp files and folders directly in ``folder``; returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed, now = 0, time.time()
    for path in folder.glob(".*"):
        if not is_temp_name(path.name):
            continue
        try:
            mtime = path.lstat().st_mtime
        except FileNotFoundError:  # removed by its writer or another cleaner meanwhile
            continue
        if is_stale_temp(path.name, mtime, now, max_age_s):
            _remove(path)
            removed += 1
    return removed


def claim_file(path: str | os.PathLike, text: str) -> bool:
    """Create ``path`` holding ``text`` only if it does not exist yet; True if this call created it.

    Of several processes claiming one path at once exactly one gets True, and a reader sees either
    no file or the complete text: the text goes to a temp file that is hard-linked to ``path``
    (``link`` fails when the target exists). Where the filesystem has no hard links, the file is
    created with O_EXCL and written in place (a reader may then briefly see it incomplete).
    """
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as err:
            if err.errno not in _NO_HARD_LINKS:
                raise
            return _claim_exclusive(path, text)
        return True
    finally:
        tmp.unlink(missing_ok=True)


_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK}


def _claim_exclusive(path: Path, text: str) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return True
