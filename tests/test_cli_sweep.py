"""``degrade-stream sweep``: one synthesize + evaluate per fixed t; sweep.csv and sweep.png."""
from __future__ import annotations

import csv
import json
import shutil

import pytest
import yaml
from PIL import Image

from cli_helpers import run_cli
from diffusion_helpers import micro_checkpoint


def test_sweep_writes_csv_and_png_with_fixed_t_per_folder(data_dir, tmp_path):
    pytest.importorskip("matplotlib")
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


def test_sweep_needs_a_refine_stage(data_dir, tmp_path):
    result = run_cli("sweep", "--config", "bicubic", "--hq", data_dir / "hq", "--real", data_dir / "lq",
                     "--out", tmp_path / "o")
    assert result.returncode == 2 and "no 'ddpm_refine' stage" in result.stderr
