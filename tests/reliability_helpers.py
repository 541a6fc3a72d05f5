"""Running ``degrade-stream`` in this process (no interpreter start-up or torch import per call)."""
from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import torch

from degrade_stream.cli.main import main


def run_in_process(*args: str | Path) -> subprocess.CompletedProcess:
    """``degrade-stream ARGS`` through ``main``, one intra-op thread (as cli_env), stdout/stderr captured."""
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit_:  # argparse errors
                code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        torch.set_num_threads(threads)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())
