"""benchmarks/gpu_check.sh --quick: the one-command GPU check runs on a CPU with tiny sizes, writes every figure to
one folder, stops a part at its time limit and goes on when a part fails."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"


def gpu_check(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHON": sys.executable}
    data = ROOT / "tests" / "data"
    return subprocess.run(["bash", str(SCRIPT), "--quick", "--device", "cpu", "--lq", str(data / "lq"),
                           "--hq", str(data / "hq"), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gpu_check")
    result = gpu_check("--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr + (out / "log.txt").read_text()
    return out


@pytest.mark.slow
def test_quick_run_writes_every_part_to_one_folder(quick_run):
    assert sorted(p.name for p in quick_run.iterdir()) == ["figures.csv", "log.txt", "results.json", "summary.md",
                                                         "sweep.csv", "train_log.csv"]
    results = json.loads((quick_run / "results.json").read_text())
    parts = results["parts"]
    assert list(parts) == ["env", "cuda_tests", "degraders", "refiner", "stream", "train", "sweep"]
    assert {p: r["status"] for p, r in parts.items()} == dict.fromkeys(parts, "ok")
    figures = {(r["part"], r["name"]): r["value"] for r in csv.DictReader((quick_run / "figures.csv").open())}
    assert figures[("env", "device")] == "cpu"
    assert figures[("cuda_tests", "failed")] == "0" and int(figures[("cuda_tests", "skipped")]) >= 1  # no GPU here
    assert float(figures[("refiner", "all_t0_cost_vs_all_t250")]) < 0.02
    assert figures[("train", "recipe")] == "ddpm_local" and figures[("train", "steps")] == "3"
    sweep = list(csv.DictReader((quick_run / "sweep.csv").open()))
    assert [int(r["t"]) for r in sweep] == [0, 20] and all(int(r["pairs"]) == 2 for r in sweep)
    summary = (quick_run / "summary.md").read_text()
    for part in parts:
        assert f"| {part} | ok |" in summary
    assert "**refiner cost that follows t**" in summary and "| (c) bicubic, iteration only |" in summary


@pytest.mark.slow
def test_a_part_over_its_limit_is_stopped_and_a_failed_part_does_not_stop_the_rest(tmp_path):
    result = gpu_check("--out", str(tmp_path), "--only", "train,sweep,env", "--limit", "train=1")
    assert result.returncode == 1
    parts = json.loads((tmp_path / "results.json").read_text())["parts"]
    assert list(parts) == ["env", "train", "sweep"]
    assert parts["train"]["status"] == "timeout" and parts["train"]["seconds"] < 15
    assert parts["sweep"]["status"] == "failed" and "no model to sweep" in parts["sweep"]["error"]
    assert parts["env"]["status"] == "ok"
    assert "not ok: train, sweep" in result.stdout
    assert "| train | timeout |" in (tmp_path / "summary.md").read_text()


def test_bad_arguments_name_the_option(tmp_path):
    result = gpu_check("--out", str(tmp_path), "--only", "trian")
    assert result.returncode == 2 and "--only: unknown part 'trian'" in result.stderr
    result = gpu_check("--out", str(tmp_path), "--limit", "train")
    assert result.returncode == 2 and "--limit 'train': expected PART=SECONDS" in result.stderr
    assert not list(tmp_path.iterdir())  # a refusal writes nothing


def test_missing_recipe_falls_back_to_ddpm_tiny_with_a_note(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from gpu_check_parts import resolve_recipe

    path, note = resolve_recipe("no_such_recipe")
    assert path == ROOT / "configs" / "ddpm" / "ddpm_tiny.yaml"
    assert "recipe 'no_such_recipe' not found" in note and "trained ddpm_tiny instead" in note
    assert resolve_recipe("ddpm_tiny") == (path, "")
