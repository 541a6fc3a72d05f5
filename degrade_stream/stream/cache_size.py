"""The pair cache's total entry size, shared by every process that writes to the folder.

Each writer adds the bytes it wrote to one small file, ``<root>/.size``, under an exclusive ``flock``, and
evicts when the shared total passes ``max_bytes``. So N processes or DDP ranks keep the folder near the bound
together, where counting only their own writes would let it grow to N times it. The count can only run
high (two writers storing the same entry both add it), never low, and each eviction resets it from a scan
of the folder. ``flock`` works between processes of one host, and on NFS v4 between hosts (Linux emulates
it with POSIX locks there). Without ``fcntl`` (Windows) the count is per process, as it was before.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # not POSIX: no shared count
    fcntl = None  # type: ignore[assignment]

SIZE_FILE = ".size"


class SharedSize:
    """A byte count in ``root/.size``, read and updated only while holding its lock."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / SIZE_FILE
        self._local = 0  # the count itself where there is no fcntl

    @property
    def shared(self) -> bool:
        """Whether the count is shared between processes (POSIX), not per process."""
        return fcntl is not None

    @contextmanager
    def locked(self) -> Iterator[int | None]:
        """Hold the exclusive lock; yields the file descriptor (None without fcntl)."""
        if fcntl is None:
            yield None
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def read(self, fd: int | None) -> int | None:
        """The count (under ``locked``); None when the file is empty or unreadable (then rescan)."""
        if fd is None:
            return self._local
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None

    def write(self, fd: int | None, total: int) -> None:
        """Set the count (under ``locked``)."""
        total = max(int(total), 0)
        if fd is None:
            self._local = total
            return
        data = str(total).encode("ascii")
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))

    def add(self, delta: int) -> int | None:
        """Add ``delta`` bytes and return the new total; None if the count was unreadable (then rescan)."""
        with self.locked() as fd:
            current = self.read(fd)
            if current is None:
                return None
            self.write(fd, current + delta)
            return current + delta
