"""compare-chains: the report for two chains, determinism, a restorer that learns a known task, clear errors."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from compare_chains_helpers import GAUSSIAN_BLUR_CHAIN, blocky_image, gaussian_blur, write_pairs
from degrade_stream import load_chain
from degrade_stream.metrics.structure import structure_scores
from degrade_stream.restore import build_restorer, train_restorer
from reliability_helpers import run_in_process

FAST = ("--steps", "3", "--seeds", "0,1", "--crop", "32", "--batch-size", "4", "--classifier-steps", "5",
        "--eval-crop", "0", "--device", "cpu", "--no-progress")


@pytest.fixture()
def pairs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(train folder, test folder, gaussian-blur chain YAML)."""
    chain = tmp_path / "gauss.yaml"
    chain.write_text(GAUSSIAN_BLUR_CHAIN)
    return write_pairs(tmp_path / "train", range(3)), write_pairs(tmp_path / "test", range(10, 12)), chain


def compare(train: Path, test: Path, chains: str, out: Path):
    return run_in_process("compare-chains", "--train", train, "--test", test, "--chains", chains, "--out", out, *FAST)


@pytest.mark.slow
def test_two_chains_table_and_json(pairs, tmp_path):
    train, test, chain = pairs
    out = tmp_path / "report.json"
    result = compare(train, test, f"identity,{chain}", out)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert [row["chain"] for row in report["rows"]] == ["identity", str(chain)]
    assert (report["train_pairs"], report["test_pairs"]) == (3, 2)
    for row in report["rows"]:
        assert [r["seed"] for r in row["restorer"]["runs"]] == [0, 1]
        assert set(row["realism"]) == {"test", "train"}
        assert 0.0 <= row["realism"]["test"]["classifier"]["accuracy"] <= 1.0
    base = report["baselines"]
    assert base["identity_init"] == base["no_restoration"]  # an untrained restorer is exactly the identity
    assert 100_000 < base["restorer_parameters"] < 1_000_000
    # identity chain: chain(H) == H, so the per-pair PSNR is PSNR(H, real L), the no-restoration score
    identity_test = report["rows"][0]["realism"]["test"]
    assert identity_test["pair_psnr"] == pytest.approx(base["no_restoration"]["psnr"], abs=1e-6)
    # the Gaussian chain reproduces the real LQ of this synthetic set far better than the identity does
    assert report["rows"][1]["realism"]["test"]["pair_psnr"] > identity_test["pair_psnr"] + 10
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| chain |") and any(line.startswith("| identity |") for line in lines)
    assert any(line.startswith("| no restoration (real L) |") for line in lines)


@pytest.mark.slow
def test_deterministic_for_a_seed(pairs, tmp_path):
    train, test, chain = pairs
    reports = []
    for name in ("a.json", "b.json"):
        assert compare(train, test, str(chain), tmp_path / name).returncode == 0
        report = json.loads((tmp_path / name).read_text())
        report.pop("seconds")
        reports.append(report)
    assert reports[0] == reports[1]


@pytest.mark.slow
def test_restorer_learns_a_known_blur():
    chain = load_chain(yaml.safe_load(GAUSSIAN_BLUR_CHAIN))
    model = train_restorer([blocky_image(s) for s in range(4)], chain, steps=40, seed=0, crop=32, batch_size=8)
    with torch.no_grad():
        for seed in range(100, 103):  # unseen images, blurred by the same Gaussian
            hq = blocky_image(seed)
            lq = gaussian_blur(hq)
            before = structure_scores(hq, lq)[0]
            after = structure_scores(hq, model(lq[None])[0].clamp(0, 1))[0]
            assert after > before + 0.3, (before, after)


def test_untrained_restorer_is_identity_and_seeded():
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(build_restorer(3)(x), x)
    a, b = build_restorer(3), build_restorer(3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.head.weight, build_restorer(4).head.weight)


def _refused(train: Path, test: Path, chains: str, out: Path, expect: list[str]) -> None:
    result = compare(train, test, chains, out)
    assert result.returncode == 2, result.stdout
    for text in expect:
        assert text in result.stderr, result.stderr
    assert not out.exists() and not list(out.parent.glob(f".{out.name}*"))


def test_error_missing_lq_folder(pairs, tmp_path):
    train, test, chain = pairs
    shutil.rmtree(test / "lq")
    _refused(train, test, str(chain), tmp_path / "r.json", ["--test", "no lq/ folder", str(test)])


def test_error_names_do_not_match(pairs, tmp_path):
    train, test, chain = pairs
    (train / "lq" / "001.png").rename(train / "lq" / "other.png")
    _refused(train, test, str(chain), tmp_path / "r.json", ["--train", "001.png", "other.png", "same name"])


def test_error_chain_not_at_hq_size(pairs, tmp_path):
    train, test, _ = pairs
    _refused(train, test, "identity,bicubic", tmp_path / "r.json", ["'bicubic'", "scale 4", "resize_back: true"])


def test_error_empty_folder(pairs, tmp_path):
    train, _, chain = pairs
    empty = tmp_path / "empty"
    (empty / "gt").mkdir(parents=True)
    (empty / "lq").mkdir()
    _refused(train, empty, str(chain), tmp_path / "r.json", ["--test", "hold no images"])
