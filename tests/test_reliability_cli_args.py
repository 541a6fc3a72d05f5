"""Every command's arguments at their edges: each refusal is one line, exit 2, and writes nothing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from reliability_helpers import run_in_process as run

HEAD = "swinir_set5__head.png"


@pytest.fixture
def hq(tmp_path, data_dir) -> Path:
    folder = tmp_path / "hq"
    folder.mkdir()
    for name in (HEAD, "swinir_set5__bird.png"):
        shutil.copy(data_dir / "hq" / name, folder / name)
    return folder


def _error(result, command: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"degrade-stream {command}: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[-1]


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_out_inside_hq_is_left_out_of_the_scan_so_a_rerun_ingests_nothing_of_its_own(hq):
    """Issue 13 item 11: the rerun used to read its own gt/ and lq/ as new HQ (LQ used as GT, exit 0)."""
    out = hq / "pairs"
    first = run("synthesize", "--config", "bicubic", "--hq", hq, "--out", out, "--no-progress")
    assert first.returncode == 0 and "2 pairs written, 0 already present" in first.stdout
    second = run("synthesize", "--config", "bicubic", "--hq", hq, "--out", out, "--no-progress")
    assert second.returncode == 0 and "0 pairs written, 2 already present, 0 files skipped" in second.stdout
    records = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    assert sorted(r["source"] for r in records) == sorted(["swinir_set5__bird.png", HEAD])
    assert sorted(p.name for p in (out / "gt").iterdir()) == sorted(["swinir_set5__bird.png", HEAD])


@pytest.mark.parametrize("where", ["same", "gt", "lq"])
def test_hq_equal_to_out_or_inside_its_gt_or_lq_is_refused(hq, tmp_path, where):
    out = hq if where == "same" else tmp_path / "o"
    source = hq if where == "same" else out / where
    if where != "same":
        shutil.copytree(hq, source)
    before = _files(tmp_path)
    line = _error(run("synthesize", "--config", "bicubic", "--hq", source, "--out", out), "synthesize")
    assert "lies in its gt/ or lq/" in line or "is --out" in line
    assert _files(tmp_path) == before


@pytest.mark.parametrize("command", [
    ["synthesize", "--config", "bicubic", "--hq", "HQ", "--out", ""],
    ["synthesize", "--config", "", "--hq", "HQ", "--out", "OUT"],
    ["synthesize", "--config", "bicubic", "--hq", "", "--out", "OUT"],
    ["evaluate", "--real", "", "--synth", "HQ"],
    ["sweep", "--config", "realesrgan_ddpm", "--hq", "HQ", "--real", "HQ", "--out", " "],
    ["demo", "--out", ""],
    ["train-ddpm", "--config", "ddpm_tiny", "--lq", "", "--out", "OUT"],
])
def test_an_empty_path_is_refused_not_taken_for_the_current_folder(hq, tmp_path, monkeypatch, command):
    """``Path('')`` is '.': synthesize --out '' used to write gt/, lq/ and run.json into the current folder."""
    monkeypatch.chdir(tmp_path)
    args = [str(hq) if a == "HQ" else str(tmp_path / "o") if a == "OUT" else a for a in command]
    before = _files(tmp_path)
    result = run(*args)
    assert result.returncode == 2 and "expected a path, got an empty string" in result.stderr
    assert _files(tmp_path) == before


@pytest.mark.parametrize("option, value, message", [
    ("--variants", "100000000", "--variants must be an integer in [1, 1000], got 100000000"),
    ("--variants", "0", "--variants must be an integer in [1, 1000], got 0"),
    ("--batch-size", "0", "--batch-size must be an integer in [1, 4096], got 0"),
    ("--batch-size", "1000000000", "--batch-size must be an integer in [1, 4096], got 1000000000"),
    ("--shard", "2/2", "--shard: expected I/N with 0 <= I < N, got '2/2'"),
    ("--shard", "1/x", "--shard: expected I/N (e.g. 0/4), got '1/x'"),
    ("--device", "cuda:7" if not __import__("torch").cuda.is_available() else "cuda:99",
     "--device cuda:"),
])
def test_synthesize_numbers_at_their_edges(hq, tmp_path, option, value, message):
    """--variants 100000000 used to plan 10^8 pairs in memory and be killed by the OOM killer."""
    out = tmp_path / "o"
    line = _error(run("synthesize", "--config", "bicubic", "--hq", hq, "--out", out, option, value), "synthesize")
    assert message in line
    assert not out.exists()


@pytest.mark.parametrize("command", [
    ["sweep", "--config", "bicubic", "--hq", "HQ", "--real", "HQ", "--out", "OUT"],
    ["calibrate", "--config", "bicubic", "--hq", "HQ", "--real", "HQ", "--out", "OUT/c.yaml"],
    ["compare-chains", "--chains", "bicubic", "--train", "HQ", "--test", "HQ", "--out", "OUT/r.json"],
], ids=lambda c: c[0])
@pytest.mark.parametrize("value", ["0", "1000000000"])
def test_every_batch_size_has_synthesizes_bounds(hq, tmp_path, command, value):
    """Only synthesize's --batch-size had an upper bound; a huge one elsewhere tried to hold every crop at once."""
    out = tmp_path / "o"
    args = [str(hq) if a == "HQ" else a.replace("OUT", str(out)) for a in command]
    line = _error(run(*args, "--batch-size", value), command[0])
    assert f"--batch-size must be an integer in [1, 4096], got {value}" in line
    assert not out.exists()


@pytest.mark.parametrize("config, message", [("binary", "not a YAML config file (not UTF-8 text)"),
                                             ("folder", "is a folder; expected a YAML config file"),
                                             ("list", "a config must be a YAML mapping, got list")])
def test_a_config_that_is_not_a_yaml_mapping_names_the_file(hq, tmp_path, data_dir, config, message):
    path = {"binary": data_dir / "hq" / HEAD, "folder": hq, "list": tmp_path / "list.yaml"}[config]
    if config == "list":
        path.write_text("- type: bicubic\n")
    line = _error(run("synthesize", "--config", path, "--hq", hq, "--out", tmp_path / "o"), "synthesize")
    assert str(path) in line and message in line
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_evaluate_with_too_few_patches_names_the_folders_and_the_options(hq, tmp_path):
    """Issue 13 item 18: the message used to be 'needs at least 4 patches per set, got 1 and 1' alone. Since issue
    20 the real set is split into image-disjoint halves (the null row): the counts are those of half A."""
    one, four = tmp_path / "one", tmp_path / "four"
    one.mkdir()
    four.mkdir()
    Image.new("RGB", (40, 40), (10, 20, 30)).save(one / "a.png")
    for i in range(4):
        Image.new("RGB", (40, 40), (10 + i, 20, 30)).save(four / f"{i}.png")
    line = _error(run("evaluate", "--real", four, "--synth", one, "--patches-per-image", "1", "--no-progress"),
                  "evaluate")
    assert line.endswith(f"too few patches for the classifier two-sample test, which needs at least 4 per folder: "
                         f"--real {four}: 2; --synth {one}: 1; raise --patches-per-image (now 1), add images, lower "
                         f"--patch-size (now 32) or pass --no-classifier (the Fréchet distance needs 2)")
    line = _error(run("evaluate", "--real", four, "--synth", one, "--patches-per-image", "1", "--no-classifier",
                      "--no-progress"), "evaluate")
    assert line.endswith(f"too few patches for the Fréchet distance, which needs at least 2 per folder: "
                         f"--synth {one}: 1; raise --patches-per-image (now 1), add images or "
                         f"lower --patch-size (now 32)")
    line = _error(run("evaluate", "--real", hq, "--synth", one, "--no-progress"), "evaluate")
    assert line.endswith(f"--real {hq}: the real set has 2 image(s); the null row splits it into two image-disjoint "
                         f"halves and needs at least 4 (2 with --no-classifier)")


@pytest.mark.parametrize("out, message", [("afile/report.json", "afile is a file, not a folder"),
                                          ("hq", "is a folder; expected a file name")])
def test_evaluate_out_in_the_way_is_refused_before_the_work(hq, tmp_path, out, message):
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "hq" if out == "hq" else tmp_path / out
    before = _files(tmp_path)
    result = run("evaluate", "--real", hq, "--synth", hq, "--no-classifier", "--out", target)
    assert message in _error(result, "evaluate") and result.stdout == ""  # refused before any report
    assert _files(tmp_path) == before


def test_evaluate_missing_inception_weights_is_refused_before_the_work(hq, tmp_path):
    result = run("evaluate", "--real", hq, "--synth", hq, "--no-classifier", "--inception-weights", tmp_path / "x.pth")
    assert _error(result, "evaluate").endswith(f"--inception-weights: no such file {tmp_path / 'x.pth'}")
    assert result.stdout == ""


def test_evaluate_draws_progress_bars_unless_told_not_to(hq):
    shown = run("evaluate", "--real", hq, "--synth", hq, "--no-classifier")
    assert shown.returncode == 0 and "patches hq" in shown.stderr and "image" in shown.stderr
    quiet = run("evaluate", "--real", hq, "--synth", hq, "--no-classifier", "--no-progress")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == shown.stdout


@pytest.mark.parametrize("command", ["sweep", "demo"])
def test_a_t_beyond_the_model_is_refused_before_the_first_folder_is_written(hq, tmp_path, command):
    """demo --t 100,9999 used to write handcrafted/ and refined_t100/ before failing on 9999."""
    out = tmp_path / "o"
    args = (["sweep", "--config", "realesrgan_ddpm", "--hq", hq, "--real", hq, "--t", "0,5000"] if command == "sweep"
            else ["demo", "--t", "100,9999"])
    line = _error(run(*args, "--out", out), command)
    assert "stages[1].t_range: high end" in line and "exceeds the model's 1000 steps" in line
    assert not out.exists()


@pytest.mark.parametrize("command", ["sweep", "demo", "train-ddpm"])
def test_out_that_is_a_file_is_refused(hq, tmp_path, command):
    afile = tmp_path / "afile"
    afile.write_text("x")
    args = {"sweep": ["sweep", "--config", "realesrgan_ddpm", "--hq", hq, "--real", hq, "--t", "0"],
            "demo": ["demo"], "train-ddpm": ["train-ddpm", "--config", "ddpm_tiny", "--lq", hq]}[command]
    assert _error(run(*args, "--out", afile), command).endswith(f"--out {afile} exists and is not a folder")
    assert afile.read_text() == "x"


def test_train_ddpm_unknown_device_is_a_clear_error_before_any_work(hq, tmp_path):
    out = tmp_path / "run"
    line = _error(run("train-ddpm", "--config", "ddpm_tiny", "--lq", hq, "--out", out, "--device", "tpu"),
                  "train-ddpm")
    assert "--device: " in line and "tpu" in line and "unexpected" not in line
    assert not out.exists()
