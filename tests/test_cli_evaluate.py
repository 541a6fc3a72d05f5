"""``degrade-stream evaluate``: identical folders are indistinguishable, clean vs heavily degraded are not."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cli_helpers import degrade_heavily
from reliability_helpers import run_in_process as run_cli

FAST = ("--patches-per-image", "24", "--steps", "80")


@pytest.mark.slow
def test_the_report_prints_the_null_row_beside_the_synthetic_row_with_intervals_and_sizes(data_dir, tmp_path):
    report_path = tmp_path / "report.json"
    result = run_cli("evaluate", "--real", data_dir / "lq", "--synth", data_dir / "lq", "--out", report_path, *FAST)
    assert result.returncode == 0, result.stderr
    assert "null: real half A" in result.stdout and "synthesized: real half A" in result.stdout
    assert "WARNING" not in result.stdout  # one folder: one scale
    report = json.loads(report_path.read_text())
    realism = report["realism"]
    for row in (realism["null"], realism["synth"]):
        for key in ("frechet_all", "frechet_degradation", "kid_all", "kid_degradation"):
            low, high = row[f"{key}_ci"]
            assert low <= row[key] <= high
        assert row["classifier"]["accuracy_ci"][0] <= row["classifier"]["accuracy"] <= row["classifier"]["accuracy_ci"][1]
    assert realism["half_a_images"] + realism["half_b_images"] == realism["real_images"] == 7
    assert realism["synth"]["synth_images"] == realism["half_b_images"]  # a comparable image count
    assert report["sizes"]["real"] == report["sizes"]["synth"] and report["scale_warning"] is None
    assert "structure" not in report  # no --hq, and not a synthesize folder


@pytest.mark.slow
def test_clean_vs_heavily_degraded_is_far_and_separable_and_structure_is_scored(data_dir, tmp_path):
    heavy = tmp_path / "heavy"
    degrade_heavily(data_dir / "hq", heavy)
    report_path = tmp_path / "report.json"
    result = run_cli("evaluate", "--real", data_dir / "hq", "--synth", heavy, "--hq", data_dir / "hq",
                     "--out", report_path, *FAST)
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    null, synth = report["realism"]["null"], report["realism"]["synth"]
    assert synth["frechet_degradation"] > null["frechet_degradation"]  # 5 real images: the intervals are wide
    assert synth["classifier"]["auc"] >= 0.9
    structure = report["structure"]
    assert structure["pairs"] == 5 and structure["unmatched_lq"] == 0
    expected = _psnr_by_name(data_dir / "hq", heavy)  # the same size as the HQ: no resize in between
    assert structure["psnr_mean"] == pytest.approx(np.mean(list(expected.values())), abs=1e-3)
    assert structure["fraction_below_24db"] == np.mean([p < 24 for p in expected.values()]) == 0.2  # butterfly
    assert structure["ssim_mean"] < 0.8


def _psnr_by_name(hq_dir: Path, lq_dir: Path) -> dict[str, float]:
    """PSNR in dB of each LQ against the HQ of the same stem, computed here with numpy (same sizes)."""
    out = {}
    for lq_path in sorted(lq_dir.iterdir()):
        hq_path = next(hq_dir.glob(f"{lq_path.stem}.*"))
        a = np.asarray(Image.open(hq_path).convert("RGB"), dtype=np.float64) / 255
        b = np.asarray(Image.open(lq_path).convert("RGB"), dtype=np.float64) / 255
        mse = np.mean((a - b) ** 2)
        out[lq_path.stem] = math.inf if mse == 0 else 10 * math.log10(1 / mse)
    return out


def test_structure_fraction_below_24db_and_median_over_a_mixed_folder(data_dir, tmp_path):
    from degrade_stream.metrics.folder_report import structure_report

    lq = tmp_path / "lq"
    degrade_heavily(data_dir / "hq", lq)
    for path in sorted((data_dir / "hq").iterdir())[:2]:  # two exact copies: infinite PSNR, capped at 100 dB
        (lq / f"{path.stem}.jpg").unlink()
        shutil.copy(path, lq / path.name)
    expected = _psnr_by_name(data_dir / "hq", lq)
    assert sum(math.isinf(p) for p in expected.values()) == 2
    report = structure_report(data_dir / "hq", lq)
    capped = sorted(min(p, 100.0) for p in expected.values())
    assert report["pairs"] == 5 and report["fraction_below_24db"] == np.mean([p < 24 for p in capped]) == 0.2
    assert report["psnr_median"] == pytest.approx(capped[2], abs=1e-3)
    assert report["psnr_mean"] == pytest.approx(np.mean(capped), abs=1e-3)


@pytest.mark.slow
def test_fid_with_local_weights_of_a_random_network(data_dir, tmp_path):
    from degrade_stream.metrics.fid_inception import build_fid_inception

    net = build_fid_inception()
    generator = torch.Generator().manual_seed(0)
    for module in net.modules():  # variance-preserving init, so random features still differ between images
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
    weights = tmp_path / "pt_inception.pth"
    torch.save(net.state_dict(), weights)
    real, synth = tmp_path / "real", tmp_path / "synth"
    real.mkdir()
    for name in ("swinir_set5__head.png", "swinir_set5__bird.png"):
        shutil.copy(data_dir / "hq" / name, real / name)
    degrade_heavily(real, synth)
    report_path = tmp_path / "report.json"
    result = run_cli("evaluate", "--real", real, "--synth", synth, "--no-classifier", "--inception-weights", weights,
                     "--out", report_path, "--patches-per-image", "8")
    assert result.returncode == 0, result.stderr
    fid = json.loads(report_path.read_text())["fid"]
    assert fid["real_images"] == 2 and fid["synth_images"] == 2
    assert "FID" in result.stdout
    # the Fréchet distance in closed form for two images per set: with d = x0 - x1, each covariance is d d^T / 2,
    # so FID = |mu_a - mu_b|^2 + |d_a|^2 / 2 + |d_b|^2 / 2 - |d_a . d_b|
    from degrade_stream.metrics.fid import fid_between_folders, folder_features
    from degrade_stream.metrics.fid_inception import load_fid_inception

    loaded = load_fid_inception(weights)
    a, b = (folder_features(loaded, folder).numpy() for folder in (real, synth))
    d_a, d_b = a[0] - a[1], b[0] - b[1]
    closed = np.sum((a.mean(0) - b.mean(0)) ** 2) + d_a @ d_a / 2 + d_b @ d_b / 2 - abs(d_a @ d_b)
    assert closed > 0 and fid["fid"] == pytest.approx(closed, rel=1e-6)
    assert fid_between_folders(real, real, weights)["fid"] < 1e-9 * closed  # a set against itself


@pytest.mark.slow
def test_fid_weights_that_do_not_fit_are_a_clear_error(tmp_path):
    from degrade_stream.metrics.fid_inception import load_fid_inception

    weights = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(10, 2048)}, weights)
    with pytest.raises(ValueError, match="does not fit the FID Inception network"):
        load_fid_inception(weights)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_fid_inception(tmp_path / "missing.pth")
