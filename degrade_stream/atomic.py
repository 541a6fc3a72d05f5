"""Atomic file and folder writes, and the cleanup of temp files left by killed writers.

A file or folder is first written under a temp name beside its target and renamed into place, so a
reader never sees a partial one, and an interrupted or failed write leaves nothing at the target
(``os.replace`` is atomic within one filesystem).

Temp names, one scheme for every writer: ``.NAME.PID.HOST.TOKEN.tmp`` (``.old`` for a folder being
replaced), where PID is the writing process, HOST a short hash of its machine's name and TOKEN unique
per write, so threads and processes writing the same target never share a temp file. A temp name is
never longer than the file system allows for a name (NAME_MAX, 255 bytes on common systems): when
NAME is too long for it, NAME is cut and ends in ``~`` plus a hash of the whole name (``temp_path_for``).

What the cleanup removes (``remove_stale_temps``): only names of exactly this scheme, only in folders
the project owns, and there only for the target names its caller says the project writes (a user's
``.notes.tmp``, ``.thesis.old/`` or ``.x.part`` is never touched). Such a temp is stale when its
writer pid is not alive on this host, or, when written on another host (whose processes this one
cannot see), when it is older than ``STALE_TEMP_AGE_S``.
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
from typing import Any, Callable, Iterator

#: A temp file without a live writer on this host is removed once it is this old (seconds).
STALE_TEMP_AGE_S = 3600.0
HOST_MARK = hashlib.blake2b(socket.gethostname().encode("utf-8"), digest_size=4).hexdigest()
#: The longest file name assumed where the file system cannot be asked (POSIX NAME_MAX on Linux, macOS, Windows).
NAME_MAX = 255
_TEMP_NAME = re.compile(r"^\.(.+)\.(\d+)\.([0-9a-f]{8})\.([0-9a-f]{8})\.(tmp|old)$", re.DOTALL)
_CUT_MARK = "~"


def name_max(folder: str | os.PathLike) -> int:
    """The longest file name (bytes) ``folder``'s file system takes: its NAME_MAX, at most ``NAME_MAX``."""
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # folder not there yet, or no pathconf (Windows)
        return NAME_MAX
    return min(int(limit), NAME_MAX) if limit and limit > 0 else NAME_MAX


def _cut(name: str, budget: int) -> str:
    """``name`` if it fits in ``budget`` UTF-8 bytes, else a prefix of it + ``~`` + a hash of all of it."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= budget:
        return name
    digest = hashlib.blake2b(raw, digest_size=4).hexdigest()
    keep = max(budget - len(_CUT_MARK) - len(digest), 1)
    prefix = raw[:keep].decode("utf-8", "ignore")  # never split a character
    return f"{prefix}{_CUT_MARK}{digest}"


def temp_path_for(path: str | os.PathLike, kind: str = "tmp") -> Path:
    """A new temp name beside ``path``, unique to this call: ``.NAME.PID.HOST.TOKEN.KIND``, no longer than
    the folder's file system allows (a long NAME is cut, see the module docstring)."""
    path = Path(path)
    tail = f".{os.getpid()}.{HOST_MARK}.{uuid.uuid4().hex[:8]}.{kind}"
    budget = name_max(path.parent) - 1 - len(tail)
    return path.with_name(f".{_cut(path.name, budget)}{tail}")


def _remove(path: Path) -> None:
    """Delete a file or folder if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


#: Free space below which a write failure without an errno is reported as a full disk.
FULL_BELOW = 1 << 20


def _free_bytes(path: Path) -> int | None:
    for folder in (path.parent, *path.parents):
        try:
            return shutil.disk_usage(folder).free
        except OSError:
            continue
    return None


def write_error(err: BaseException, path: str | os.PathLike) -> OSError:
    """An OSError naming ``path`` for ``err`` raised while writing it (``err`` itself if it names a file).

    A failed ``write()`` raises an OSError without a file name, safetensors its own error with the errno in
    its text, ``torch.save`` a RuntimeError: each becomes an OSError naming ``path`` (issue 23 item 15), the
    errno kept where there is one; a full disk (ENOSPC, or under FULL_BELOW bytes free) says so."""
    if isinstance(err, OSError) and err.filename is not None:
        return err
    path = Path(path)
    code = err.errno if isinstance(err, OSError) else None
    text = " ".join(str(err).split())
    if code is None and ("No space left" in text or "code: 28" in text):
        code = errno.ENOSPC
    free = _free_bytes(path)
    if code is None and free is not None and free < FULL_BELOW:
        code = errno.ENOSPC
    if code == errno.ENOSPC:
        left = f" ({free} bytes free)" if free is not None else ""
        return OSError(errno.ENOSPC, f"No space left on device{left}: the disk holding it is full", str(path))
    if code is not None:
        return OSError(code, os.strerror(code), str(path))
    return OSError(errno.EIO, f"write failed: {text[:200]}", str(path))


@contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path to write one file; on success it replaces ``path``, on any error it is removed."""
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:  # a write without a file name (disk full): name the file being written
        _remove(tmp)
        raise write_error(err, path) from None
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
    except BaseException as err:
        if old is not None and old.exists() and not path.exists():
            os.replace(old, path)  # put the previous folder back
        _remove(tmp)
        if isinstance(err, OSError):  # a write without a file name (disk full): name the folder being written
            raise write_error(err, path) from None
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


def temp_target(name: str) -> str | None:
    """The target name a temp name of this scheme was written for (cut, for long names); None for any
    other name."""
    match = _TEMP_NAME.match(name)
    return match.group(1) if match else None


def is_temp_name(name: str) -> bool:
    """Whether ``name`` follows the temp-name scheme of this module exactly."""
    return _TEMP_NAME.match(name) is not None


def temp_writer(name: str) -> tuple[int | None, str | None]:
    """(pid, host mark) of the writer encoded in a temp name; (None, None) for any other name."""
    match = _TEMP_NAME.match(name)
    return (int(match.group(2)), match.group(3)) if match else (None, None)


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
    """The stale rule (module docstring) for a temp file ``name`` last modified at ``mtime``; False for a
    name that is not of this module's scheme."""
    pid, host = temp_writer(name)
    if pid is None:
        return False
    if host == HOST_MARK:
        return not process_alive(pid)
    return mtime < (time.time() if now is None else now) - max_age_s


def remove_stale_temps(folder: str | os.PathLike, owns: Callable[[str], bool] | None = None,
                       max_age_s: float = STALE_TEMP_AGE_S) -> int:
    """Delete the stale temp files and folders directly in ``folder`` whose target name ``owns`` accepts
    (None: every target, for a folder the project owns whole, such as synthesize's gt/); returns how many.

    Only names of this module's exact scheme are looked at; anything else is never touched."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed, now = 0, time.time()
    for path in folder.glob(".*"):
        target = temp_target(path.name)
        if target is None or (owns is not None and not owns(target)):
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
