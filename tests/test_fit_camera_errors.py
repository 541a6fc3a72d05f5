"""``degrade-stream fit-camera``: the written folder (chain loads, model hash, report), and every bad input
refused with one line that names the pair, before any fitting, with nothing written."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

import degrade_stream as ds
from camera_helpers import sharpened_kernel, shift_image, write_pairs
from degrade_stream.cli.main import main
from degrade_stream.io import load_image, save_image


@pytest.fixture(scope="module")
def written_pairs(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("camera") / "pairs", sharpened_kernel(), noise=False)


@pytest.fixture
def pairs(written_pairs, tmp_path):
    """A fresh copy per test (tests break pairs on purpose)."""
    return shutil.copytree(written_pairs, tmp_path / "pairs")


def _refused(capsys, pairs, out, *extra) -> str:
    before = sorted(p.name for p in out.iterdir()) if out.exists() else None
    code = main(["fit-camera", "--pairs", str(pairs), "--out", str(out), "--no-progress", *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert (sorted(p.name for p in out.iterdir()) if out.exists() else None) == before  # nothing written
    assert len(err.strip().splitlines()) == 1
    return err


@pytest.mark.slow
def test_writes_chain_model_and_report(pairs, tmp_path, capsys):
    out = tmp_path / "cam"
    assert main(["fit-camera", "--pairs", str(pairs), "--out", str(out), "--no-progress", "--kernel-size", "11"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["camera.safetensors", "camera.yaml", "report.json"]
    chain = ds.load_chain(out / "camera.yaml")
    assert chain.stages[0].model.entries == 4
    report = json.loads((out / "report.json").read_text())
    assert report["pairs"] == 4 and report["summary"]["psnr_fit"]["mean"] > report["summary"]["psnr_identity"]["mean"]
    assert {"registration", "kernel", "sharpening", "psnr_held_out"} <= set(report["per_pair"][0])
    lq = chain(load_image(pairs / "gt" / "p0.png")[None], seed=0).lq
    assert lq.shape[-2:] == load_image(pairs / "lq" / "p0.png").shape[-2:]
    assert "fitted 4 pairs" in capsys.readouterr().out


def test_missing_side_names_the_pair(pairs, tmp_path, capsys):
    (pairs / "lq" / "p2.png").unlink()
    assert "p2.png" in _refused(capsys, pairs, tmp_path / "o")


def test_too_few_pairs(pairs, tmp_path, capsys):
    for name in ("p1", "p2", "p3"):
        (pairs / "gt" / f"{name}.png").unlink()
        (pairs / "lq" / f"{name}.png").unlink()
    assert "1 pair(s) found, a camera fit needs at least 2" in _refused(capsys, pairs, tmp_path / "o")


def test_different_sizes_name_the_pair(pairs, tmp_path, capsys):
    lq = load_image(pairs / "lq" / "p1.png")
    save_image(lq[:, :, :-40], pairs / "lq" / "p1.png")
    err = _refused(capsys, pairs, tmp_path / "o")
    assert "pair p1.png" in err and "different sizes" in err


def test_non_integer_scale_names_the_pair(pairs, tmp_path, capsys):
    for name in ("p0", "p1", "p2", "p3"):
        lq = load_image(pairs / "lq" / f"{name}.png")
        h, w = lq.shape[1:]
        small = torch.nn.functional.interpolate(lq[None], size=(round(h / 1.5), round(w / 1.5)), mode="area")[0]
        save_image(small, pairs / "lq" / f"{name}.png")
    err = _refused(capsys, pairs, tmp_path / "o")
    assert "pair p0.png: H/L size ratio 1.5" in err and "integer" in err


def test_misaligned_pair_is_refused_with_its_registration_error(pairs, tmp_path, capsys):
    lq = load_image(pairs / "lq" / "p3.png")
    save_image(shift_image(lq, 9, -7), pairs / "lq" / "p3.png")
    err = _refused(capsys, pairs, tmp_path / "o")
    assert "pair p3.png: misaligned: L is shifted by (9.0" in err and "> 4.0 px" in err
    assert main(["fit-camera", "--pairs", str(pairs), "--out", str(tmp_path / "o2"), "--no-progress",
                 "--max-shift", "20", "--min-pairs", "9"]) == 2  # a looser bound passes the pair (then too few)
    assert "shifted by" not in capsys.readouterr().err


def test_wrong_pair_does_not_register(pairs, tmp_path, capsys):
    shutil.copy(pairs / "lq" / "p0.png", pairs / "lq" / "p1.png")  # another scene's L (same size after crop)
    lq0, gt1 = load_image(pairs / "lq" / "p0.png"), load_image(pairs / "gt" / "p1.png")
    if lq0.shape != gt1.shape:
        save_image(torch.nn.functional.interpolate(lq0[None], size=gt1.shape[1:], mode="area")[0],
                   pairs / "lq" / "p1.png")
    err = _refused(capsys, pairs, tmp_path / "o")
    assert "pair p1.png" in err and ("do not register" in err or "misaligned" in err)


def test_unreadable_file_names_the_pair(pairs, tmp_path, capsys):
    (pairs / "gt" / "p2.png").write_bytes(b"\x89PNG broken")
    err = _refused(capsys, pairs, tmp_path / "o")
    assert "pair p2.png: cannot read image" in err


def test_existing_output_is_never_replaced(pairs, tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert "exists and is not an empty folder" in _refused(capsys, pairs, out)
    assert (out / "mine.txt").read_text() == "keep"


def test_bad_numbers_are_refused(pairs, tmp_path, capsys):
    assert "--kernel-size must be an odd integer" in _refused(capsys, pairs, tmp_path / "o", "--kernel-size", "8")
    assert "--ridge must be >= 0" in _refused(capsys, pairs, tmp_path / "o", "--ridge", "-1")


def test_missing_hq_side_names_the_pair(pairs, tmp_path, capsys):
    (pairs / "gt" / "p1.png").unlink()
    err = _refused(capsys, pairs, tmp_path / "o")
    assert "p1.png" in err and "gt/" in err


def test_missing_lq_folder_and_empty_folders_are_named(pairs, tmp_path, capsys):
    shutil.rmtree(pairs / "lq")
    assert "no lq/ folder" in _refused(capsys, pairs, tmp_path / "o")
    empty = tmp_path / "empty"
    (empty / "gt").mkdir(parents=True)
    (empty / "lq").mkdir()
    assert "hold no images" in _refused(capsys, empty, tmp_path / "o2")
