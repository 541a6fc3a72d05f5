"""Checks of path arguments that every command runs before any work, so a refusal writes nothing."""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def path_arg(text: str) -> str:
    """argparse ``type=`` for a path: refuses the empty string (``Path('')`` is the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def check_output_file(path: Path, option: str) -> None:
    """``path`` can be written as a file: it is not a folder and no existing parent of it is a file."""
    if path.is_dir():
        raise IsADirectoryError(f"{option} {path} is a folder; expected a file name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise FileExistsError(f"{option} {path}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK):
                raise PermissionError(f"{option} {path}: the folder {parent} is not writable")
            break


def check_input_file(path: Path, option: str) -> None:
    """``path`` is an existing file."""
    if not path.exists():
        raise FileNotFoundError(f"{option}: no such file {path}")
    if not path.is_file():
        raise FileNotFoundError(f"{option} {path} is a folder; expected a file")
