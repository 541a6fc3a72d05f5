"""Atomic file writes: write a temp file beside the target, then rename it into place.

A reader never sees a partial file, and an interrupted or failed write leaves no file at the target
(``os.replace`` is atomic within one filesystem). Temp names are ``.NAME.PID.tmp`` so a later run can
recognise and remove the leftovers of a writer that died.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def temp_path_for(path: Path) -> Path:
    """The temp name used for writing ``path`` from this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces ``path``, on any error it is removed."""
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write a UTF-8 text file atomically."""
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.(tmp|old)$")


def writer_pid(path: Path) -> int | None:
    """The process id in a temp name ``.NAME.PID.tmp`` (or ``.old``), None for any other name."""
    match = _TEMP_NAME.match(path.name)
    return int(match.group(1)) if match else None


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def remove_dead_writers_temps(folder: Path) -> int:
    """Delete the temp files and folders in ``folder`` whose writer process has died; returns how many.

    Only names of the form ``.NAME.PID.tmp`` / ``.NAME.PID.old`` are touched, and only when PID is not
    a live process on this machine (so writers on other machines of a shared filesystem must not
    share an output folder with a cleaning process that cannot see them).
    """
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.glob(".*"):
        pid = writer_pid(path)
        if pid is None or process_alive(pid):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
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
