"""The console script exists and lists the shipped configs."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import degrade_stream as ds


def _console_script() -> str:
    """The installed ``degrade-stream`` script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "degrade-stream"
    exe = str(beside) if beside.exists() else shutil.which("degrade-stream")
    assert exe, "the degrade-stream console script is not installed"
    return exe


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([_console_script(), *args], capture_output=True, text=True, timeout=120)


def test_help_lists_subcommands():
    out = _run("--help")
    assert out.returncode == 0
    for command in ("configs", "train-ddpm", "synthesize", "evaluate", "sweep", "demo"):
        assert command in out.stdout, f"{command} missing from --help"


def test_configs_lists_every_shipped_chain_with_a_description():
    out = _run("configs")
    assert out.returncode == 0, out.stderr
    names = ds.named_configs("chains")
    assert "identity" in names
    for name in names:
        line = next((l for l in out.stdout.splitlines() if l.strip().startswith(name + " ")), None)
        assert line is not None, f"{name} missing from: {out.stdout}"
        assert len(line.split(None, 1)) == 2, f"{name} has no description"


def test_every_shipped_chain_loads():
    for name in ds.named_configs("chains"):
        chain = ds.load_chain(name)
        assert len(chain) >= 1


def test_unknown_config_to_show_is_an_error_exit():
    out = _run("configs", "--show", "no_such_config")
    assert out.returncode == 2
    assert "no_such_config" in out.stderr
