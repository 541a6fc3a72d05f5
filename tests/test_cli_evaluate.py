"""``degrade-stream evaluate``: identical folders are indistinguishable, clean vs heavily degraded are not."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from cli_helpers import degrade_heavily, run_cli

FAST = ("--patches-per-image", "24", "--steps", "80")


def test_identical_folders_give_zero_distance_and_chance_accuracy(data_dir, tmp_path):
    report_path = tmp_path / "report.json"
    result = run_cli("evaluate", "--real", data_dir / "lq", "--synth", data_dir / "lq", "--out", report_path, *FAST)
    assert result.returncode == 0, result.stderr
    assert "Fréchet distance" in result.stdout and "classifier accuracy" in result.stdout
    report = json.loads(report_path.read_text())
    realism = report["realism"]
    assert realism["frechet_all"] < 1e-6 and realism["frechet_degradation"] < 1e-6
    assert 0.38 <= realism["classifier"]["accuracy"] <= 0.62
    assert "structure" not in report  # no --hq, and not a synthesize folder


def test_clean_vs_heavily_degraded_is_far_and_separable_and_structure_is_scored(data_dir, tmp_path):
    heavy = tmp_path / "heavy"
    degrade_heavily(data_dir / "hq", heavy)
    report_path = tmp_path / "report.json"
    result = run_cli("evaluate", "--real", data_dir / "hq", "--synth", heavy, "--hq", data_dir / "hq",
                     "--out", report_path, *FAST)
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    realism = report["realism"]
    assert realism["frechet_all"] > 5 and realism["frechet_degradation"] > 5  # real vs real: ~1-1.4
    assert realism["classifier"]["accuracy"] >= 0.9
    structure = report["structure"]
    assert structure["pairs"] == 5 and structure["unmatched_lq"] == 0
    assert 15 < structure["psnr_mean"] < 30 and structure["ssim_mean"] < 0.8
    assert 0.0 <= structure["fraction_below_24db"] <= 1.0


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
    assert fid["fid"] > 0 and fid["fid"] == fid["fid"]
    assert "FID" in result.stdout



def test_fid_weights_that_do_not_fit_are_a_clear_error(tmp_path):
    from degrade_stream.metrics.fid_inception import load_fid_inception

    weights = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(10, 2048)}, weights)
    with pytest.raises(ValueError, match="does not fit the FID Inception network"):
        load_fid_inception(weights)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_fid_inception(tmp_path / "missing.pth")
