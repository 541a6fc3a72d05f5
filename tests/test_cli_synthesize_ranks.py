"""``synthesize`` under torchrun: 1 rank and 3 ranks (gloo, CPU) write the same bytes, variants included.

Batches are planned over the whole folder before the ranks take theirs (offline/pair_plan.py), so a pair's bytes
never depend on how many processes share the work. The process is the point here: torchrun starts them."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import cli_env, console_script, tree_digest


def _torchrun(ranks: int, hq: Path, out: Path) -> str:
    with socket.socket() as probe:  # a free port for the rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks), "--master-port",
               str(port), console_script(), "synthesize", "--config", "realesrgan", "--hq", str(hq), "--out",
               str(out), "--seed", "3", "--variants", "2", "--batch-size", "1", "--no-progress"]
    env = {**cli_env(), "GLOO_SOCKET_IFNAME": cli_env().get("GLOO_SOCKET_IFNAME", "lo")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_one_and_three_torchrun_ranks_write_identical_bytes(data_dir, tmp_path):
    one = _torchrun(1, data_dir / "hq", tmp_path / "one")
    three = _torchrun(3, data_dir / "hq", tmp_path / "three")
    for stdout in (one, three):  # one summary, by rank 0, counting every rank's pairs
        assert stdout.count("pairs written") == 1 and "10 pairs written, 0 already present" in stdout, stdout
    assert len(list((tmp_path / "three" / "lq").glob("*_v1.png"))) == 5
    assert tree_digest(tmp_path / "three") == tree_digest(tmp_path / "one")
