"""``degrade-stream sweep``: one synthesize + evaluate per fixed t; sweep.csv and sweep.png."""
from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from conftest import require_framework
from degrade_stream.cli.main import main
from diffusion_helpers import micro_checkpoint
from reliability_helpers import run_in_process as run_cli


def _sweep_inputs(data_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(chain YAML: bicubic x4 + a micro DDPM, folder of 3 HQ images)."""
    checkpoint = micro_checkpoint(tmp_path / "ddpm")
    config = {"name": "bicubic_micro_ddpm",
              "stages": [{"type": "bicubic", "scale": 4},
                         {"type": "ddpm_refine", "checkpoint": str(checkpoint), "t_range": [0, 250], "steps": 4}]}
    config_path = tmp_path / "chain.yaml"
    config_path.write_text(yaml.safe_dump(config))
    hq = tmp_path / "hq"
    hq.mkdir()
    for name in ("swinir_set5__head.png", "swinir_set5__bird.png", "mmagic_face__000001.png"):
        shutil.copy(data_dir / "hq" / name, hq / name)
    return config_path, hq


@pytest.mark.slow
def test_sweep_writes_csv_and_png_with_fixed_t_per_folder(data_dir, tmp_path):
    require_framework("matplotlib")  # installed by tests/install_frameworks.sh (the "plot" extra)
    config_path, hq = _sweep_inputs(data_dir, tmp_path)
    out = tmp_path / "sweep"
    result = run_cli("sweep", "--config", config_path, "--hq", hq, "--real", data_dir / "lq", "--t", "0,200",
                     "--out", out, "--patches-per-image", "16", "--no-classifier")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [int(r["t"]) for r in rows] == [0, 200]
    assert all(int(r["pairs"]) == 3 for r in rows)
    for t in (0, 200):
        records = [json.loads(line) for line in (out / f"t_{t}" / "pairs.jsonl").read_text().splitlines()]
        assert [r["t"] for r in records] == [t, t, t]
    # t = 0 is the handcrafted LQ itself; refining from t = 200 moves it away from the HQ's structure
    assert float(rows[1]["psnr_mean"]) < float(rows[0]["psnr_mean"])
    image = Image.open(out / "sweep.png")
    assert image.format == "PNG" and image.width > 200 and image.height > 200


@pytest.mark.slow
def test_without_matplotlib_the_csv_is_written_and_no_png(data_dir, tmp_path, monkeypatch, capsys):
    config_path, hq = _sweep_inputs(data_dir, tmp_path)
    for name in ("matplotlib", "matplotlib.pyplot"):  # as if not installed: ``import matplotlib`` raises ImportError
        monkeypatch.setitem(sys.modules, name, None)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the CLI runs (cli_env)
    try:
        code = main(["sweep", "--config", str(config_path), "--hq", str(hq), "--real", str(data_dir / "lq"),
                     "--t", "0,100", "--out", str(tmp_path / "sweep"), "--patches-per-image", "16", "--no-classifier"])
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    assert code == 0
    assert "sweep.png not drawn: matplotlib is not installed" in printed
    rows = list(csv.DictReader((tmp_path / "sweep" / "sweep.csv").open()))
    assert [int(r["t"]) for r in rows] == [0, 100] and all(int(r["pairs"]) == 3 for r in rows)
    assert all(r["classifier_accuracy"] == "" for r in rows) and float(rows[1]["psnr_mean"]) < float(rows[0]["psnr_mean"])
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == ["sweep.csv", "t_0", "t_100"]  # no png, no temp


def test_sweep_needs_a_refine_stage(data_dir, tmp_path):
    result = run_cli("sweep", "--config", "bicubic", "--hq", data_dir / "hq", "--real", data_dir / "lq",
                     "--out", tmp_path / "o")
    assert result.returncode == 2 and "no 'ddpm_refine' stage" in result.stderr
