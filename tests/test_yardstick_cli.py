"""``evaluate``'s yardstick wiring (issue 20): the scale warning, and ``evaluate --pairs`` refusing bad inputs
with named errors and writing nothing."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from reliability_helpers import run_in_process as run_cli


def _write(path, size, seed):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)


def _pairs(root, count=4, size=(64, 64)):
    for i in range(count):
        _write(root / "gt" / f"s{i}.png", size, i)
        _write(root / "lq" / f"s{i}.png", size, 100 + i)
    return root


def test_evaluate_pairs_names_a_pair_with_one_side_missing_and_writes_nothing(tmp_path):
    pairs = _pairs(tmp_path / "pairs")
    (pairs / "lq" / "s2.png").unlink()
    out = tmp_path / "report.json"
    result = run_cli("evaluate", "--pairs", pairs, "--config", "identity", "--out", out)
    assert result.returncode != 0 and "s2.png" in result.stderr and "lq/" in result.stderr
    assert not out.exists()


def test_evaluate_pairs_names_a_pair_whose_sizes_differ_and_writes_nothing(tmp_path):
    pairs = _pairs(tmp_path / "pairs")
    _write(pairs / "lq" / "s1.png", (48, 64), 7)
    out = tmp_path / "report.json"
    result = run_cli("evaluate", "--pairs", pairs, "--config", "identity", "--out", out)
    assert result.returncode != 0 and "s1.png" in result.stderr and "64x48" in result.stderr
    assert not out.exists()


def test_evaluate_pairs_needs_a_config(tmp_path):
    result = run_cli("evaluate", "--pairs", _pairs(tmp_path / "pairs"))
    assert result.returncode != 0 and "--config" in result.stderr


def test_evaluate_warns_when_the_lq_scales_differ(tmp_path):
    for i in range(4):
        _write(tmp_path / "real" / f"r{i}.png", (224, 240), i)
        _write(tmp_path / "synth" / f"s{i}.png", (64, 80), 10 + i)
    out = tmp_path / "report.json"
    result = run_cli("evaluate", "--real", tmp_path / "real", "--synth", tmp_path / "synth", "--no-classifier",
                     "--patches-per-image", "4", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "WARNING: content scale differs" in result.stdout
    report = json.loads(out.read_text())
    assert report["sizes"]["real"]["short_side_median"] == 224 and report["sizes"]["synth"]["short_side_median"] == 64
    assert "--match-scale" in report["scale_warning"]


def test_synthesize_match_scale_downscales_large_hq_and_never_upscales_small_hq(tmp_path):
    for i in range(3):
        _write(tmp_path / "real" / f"r{i}.png", (40, 48), i)  # real LQ short side median 40
    _write(tmp_path / "hq" / "large.png", (240, 200), 1)  # bicubic x4 -> LQ 160: downscaled to 200 x 160 -> 40 px
    _write(tmp_path / "hq" / "small.png", (96, 120), 2)  # LQ 24 < 40: kept as it is
    out = tmp_path / "pairs"
    result = run_cli("synthesize", "--config", "bicubic", "--hq", tmp_path / "hq", "--out", out,
                     "--match-scale", tmp_path / "real", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "1 of 2 HQ images downscaled" in result.stdout
    assert Image.open(out / "lq" / "large.png").size == (40, 48)  # short side 40 = the real median
    assert Image.open(out / "gt" / "large.png").size == (160, 192)
    assert Image.open(out / "gt" / "small.png").size == (120, 96)  # never upscaled
    assert Image.open(out / "lq" / "small.png").size == (30, 24)


def test_calibrate_match_scale_needs_an_hq_folder(tmp_path):
    pairs = _pairs(tmp_path / "pairs")
    out = tmp_path / "chain.yaml"
    result = run_cli("calibrate", "--config", "identity", "--pairs", pairs, "--match-scale", pairs / "lq",
                     "--out", out, "--budget", "2")
    assert result.returncode != 0 and "--match-scale needs --hq DIR" in result.stderr
    assert not out.exists()


def test_match_scale_is_documented_in_each_commands_help():
    for command in ("synthesize", "sweep", "calibrate"):
        result = run_cli(command, "--help")
        text = " ".join(result.stdout.split())
        assert "--match-scale REAL_DIR" in text and "never upscale" in text
