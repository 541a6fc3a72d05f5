"""Atomic file writes: write a temp file beside the target, then rename it into place.

A reader never sees a partial file, and an interrupted or failed write leaves no file at the target
(``os.replace`` is atomic within one filesystem). Temp names are ``.NAME.PID.tmp`` so a later run can
recognise and remove the leftovers of a writer that died.
"""
from __future__ import annotations

import os
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
