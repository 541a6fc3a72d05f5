"""Checkpoint files that are truncated, foreign or booby-trapped, and folders that killed writers left:
each is a one-line error naming the file (exit 2), or is cleaned up on the next run."""
from __future__ import annotations

import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from degrade_stream.atomic import HOST_MARK
from degrade_stream.diffusion import checkpoint as ckpt_io
from degrade_stream.diffusion.denoiser import bundled_checkpoint
from diffusion_helpers import micro_train_config, single_thread  # noqa: F401  (autouse fixture)
from reliability_helpers import run_in_process


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_dir) -> tuple[Path, Path]:
    """(LQ folder, a train-ddpm --out folder holding step_00000002) from a two-step micro run."""
    root = tmp_path_factory.mktemp("ckpt")
    recipe = root / "micro.yaml"
    recipe.write_text(yaml.safe_dump(micro_train_config(steps=2, checkpoint_every=2).to_dict()))
    result = run_in_process("train-ddpm", "--config", recipe, "--lq", data_dir / "lq", "--out", root / "run",
                            "--no-progress")
    assert result.returncode == 0, result.stderr
    return data_dir / "lq", root / "run"


def _resume(lq: Path, run: Path):
    return run_in_process("train-ddpm", "--resume", "--steps", "4", "--lq", lq, "--out", run, "--no-progress")


def _one_line(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("INFO:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


class _Payload:
    """Unpickling this would create a file (the marker): proof that the payload ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("damage", ["truncated model", "truncated state", "empty state", "pickle state",
                                    "foreign state", "latest garbage"])
def test_resume_from_a_damaged_checkpoint_is_a_one_line_error_naming_the_file(trained, tmp_path, damage):
    lq, source = trained
    run = tmp_path / "run"
    shutil.copytree(source, run)
    step = run / "step_00000002"
    marker = tmp_path / "payload_ran"
    target = {"truncated model": step / ckpt_io.MODEL_FILE, "latest garbage": run / ckpt_io.LATEST_FILE}.get(
        damage, step / ckpt_io.STATE_FILE)
    data = target.read_bytes()
    if damage.startswith("truncated"):
        target.write_bytes(data[: len(data) // 2])
    elif damage == "empty state":
        target.write_bytes(b"")
    elif damage == "pickle state":
        target.write_bytes(pickle.dumps({"step": 2, "x": _Payload(marker)}))
    elif damage == "foreign state":
        import torch

        torch.save({"weights": torch.zeros(2)}, target)
    else:
        target.write_text("../../etc\n")
    expected = {"pickle state": "holds objects other than tensors and plain values; refused without running them",
                "foreign state": "not a training state written by train-ddpm (missing step, optimizer",
                "latest garbage": "expected the name of a step_NNNNNNNN folder, found '../../etc'",
                "truncated model": "not a readable safetensors weights file, perhaps truncated"}.get(
        damage, "not a readable training state, perhaps truncated")
    before = sorted(p.name for p in run.iterdir())
    line = _one_line(_resume(lq, run))
    assert line.startswith(f"degrade-stream train-ddpm: error: {target}: {expected}"), line
    assert not marker.exists()
    assert sorted(p.name for p in run.iterdir()) == before  # nothing new written


def test_truncated_ema_under_a_ddpm_refine_stage_names_the_file_and_writes_nothing(tmp_path, data_dir):
    model = tmp_path / "model"
    shutil.copytree(bundled_checkpoint(), model)
    weights = model / ckpt_io.EMA_FILE
    weights.write_bytes(weights.read_bytes()[:1000])
    chain = tmp_path / "chain.yaml"
    chain.write_text(yaml.safe_dump({"stages": [{"type": "bicubic", "scale": 4},
                                                {"type": "ddpm_refine", "checkpoint": str(model), "t_range": [1, 5]}]}))
    out = tmp_path / "out"
    line = _one_line(run_in_process("synthesize", "--config", chain, "--hq", data_dir / "hq", "--out", out,
                                    "--no-progress"))
    assert line.startswith(f"degrade-stream synthesize: error: {weights}: not a readable safetensors weights file")
    assert not out.exists()


def test_a_killed_writers_checkpoint_folders_are_removed_on_the_next_run(trained, tmp_path):
    lq, source = trained
    run = tmp_path / "run"
    shutil.copytree(source, run)
    dead, alive = _dead_pid(), 1  # pid 1 always exists
    mark = f"{HOST_MARK}.0123abcd"  # atomic.temp_path_for's scheme
    stale = [run / f".step_00000003.{dead}.{mark}.tmp", run / f".step_00000002.{dead}.{mark}.old"]
    for folder in stale:
        folder.mkdir()
        (folder / ckpt_io.MODEL_FILE).write_bytes(b"half a file")
    (run / f".latest.{dead}.{mark}.tmp").write_text("step_00000003")
    live = run / f".step_00000003.{alive}.{mark}.tmp"
    live.mkdir()
    kept = sorted(p.name for p in run.iterdir() if p not in stale and p.name != f".latest.{dead}.{mark}.tmp")
    result = _resume(lq, run)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in run.iterdir()) == sorted(kept + ["step_00000004"])
    assert live.name in kept


def test_write_checkpoint_itself_removes_dead_writers_temps(tmp_path):
    import torch

    dead = _dead_pid()
    (tmp_path / f".step_00000001.{dead}.{HOST_MARK}.0123abcd.tmp").mkdir()
    (tmp_path / f".step_00000001.{os.getpid()}.keep").mkdir()  # not a temp name: untouched
    state = {"w": torch.ones(2)}
    ckpt_io.write_checkpoint(tmp_path, 2, state, state, None, {"model": {}})
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".step_00000001.{os.getpid()}.keep", "latest",
                                                           "step_00000002"]


def test_a_foreign_weights_file_is_named(tmp_path, data_dir):
    path = tmp_path / "model.safetensors"
    shutil.copy(data_dir / "hq" / "swinir_set5__head.png", path)
    with pytest.raises(ValueError, match=rf"^{path}: not a readable safetensors weights file"):
        ckpt_io.read_weights(path)
