"""synthesize never keeps a stale pair, one unwritable name never stops a run, and --variants K output is
read by BasicSR's PairedImageDataset (issue 23 items 2 and 11, issue 22's variants bullet)."""
from __future__ import annotations

import errno
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from degrade_stream import atomic
from reliability_helpers import run_in_process as run_cli

CONFIG = "bicubic"  # deterministic and fast: what is tested here is which pairs a rerun keeps


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]


def _two_inputs(tmp_path: Path, data_dir: Path, suffix: str = ".png") -> Path:
    hq = tmp_path / "hq"
    hq.mkdir()
    for name in ("swinir_set5__head", "swinir_set5__bird"):
        Image.open(data_dir / "hq" / f"{name}.png").convert("RGB").save(hq / f"{name}{suffix}")
    return hq


def _synthesize(hq: Path, out: Path, *extra: str):
    result = run_cli("synthesize", "--config", CONFIG, "--hq", hq, "--out", out, "--seed", "3", "--no-progress",
                     *extra)
    assert result.returncode in (0, 1), result.stderr
    return result


def _fresh(tmp_path: Path, hq: Path, name: str, *extra: str) -> Path:
    """What a first run on the current inputs writes (the bytes a rerun must end with)."""
    out = tmp_path / name
    assert _synthesize(hq, out, *extra).returncode == 0
    return out


def test_new_content_of_the_same_size_is_redone(tmp_path, data_dir):
    """BMP files keep their byte size when pixels change: only the content fingerprint can tell."""
    hq = _two_inputs(tmp_path, data_dir, ".bmp")
    out = tmp_path / "out"
    _synthesize(hq, out)
    path = hq / "swinir_set5__head.bmp"
    size = path.stat().st_size
    pixels = np.asarray(Image.open(path)).copy()
    pixels[:40] = 255 - pixels[:40]
    Image.fromarray(pixels).save(path)
    assert path.stat().st_size == size
    again = _synthesize(hq, out)
    assert "1 pairs written (1 inputs changed since their pairs were written: redone), 1 already present" \
        in again.stdout
    assert "redone swinir_set5__head.bmp: the file changed" in again.stdout
    fresh = _fresh(tmp_path, hq, "fresh")
    for sub in ("gt", "lq"):
        assert _digest(out / sub / "swinir_set5__head.png") == _digest(fresh / sub / "swinir_set5__head.png")
    assert _records(out) == _records(fresh)
    assert "0 pairs written, 2 already present" in _synthesize(hq, out).stdout  # and then it is current


def test_a_new_size_under_the_same_name_is_redone_with_variants(tmp_path, data_dir):
    hq = _two_inputs(tmp_path, data_dir)
    out = tmp_path / "out"
    _synthesize(hq, out, "--variants", "2")
    Image.open(data_dir / "hq" / "swinir_set5__woman.png").save(hq / "swinir_set5__bird.png")  # another image
    again = _synthesize(hq, out, "--variants", "2")
    assert "2 pairs written (1 inputs changed" in again.stdout and "2 already present" in again.stdout
    fresh = _fresh(tmp_path, hq, "fresh", "--variants", "2")
    assert {p.name: _digest(p) for p in (out / "gt").iterdir()} == {p.name: _digest(p) for p in (fresh / "gt").iterdir()}
    assert {p.name: _digest(p) for p in (out / "lq").iterdir()} == {p.name: _digest(p) for p in (fresh / "lq").iterdir()}
    assert (out / "meta_info.txt").read_text() == (fresh / "meta_info.txt").read_text()


def test_an_input_that_became_unusable_loses_its_old_pair(tmp_path, data_dir):
    hq = _two_inputs(tmp_path, data_dir)
    out = tmp_path / "out"
    _synthesize(hq, out)
    Image.new("RGB", (20, 20), (10, 20, 30)).save(hq / "swinir_set5__bird.png")  # now too small for x4
    again = _synthesize(hq, out)
    assert again.returncode == 1 and "skipped swinir_set5__bird.png: too small" in again.stdout
    assert sorted(p.name for p in (out / "lq").iterdir()) == ["swinir_set5__head.png"]
    assert sorted(p.name for p in (out / "gt").iterdir()) == ["swinir_set5__head.png"]
    assert [r["source"] for r in _records(out)] == ["swinir_set5__head.png"]


def test_a_240_byte_name_is_written_and_an_unwritable_one_is_skipped(tmp_path, data_dir):
    """Issue 23 item 11: a legal 240-character name stopped the run ('File name too long', naming the temp
    file) and left the other pairs of its batch without LQ."""
    hq = tmp_path / "hq"
    (hq / ("d" * 100)).mkdir(parents=True)
    long_name = "x" * 236 + ".png"
    for name in (long_name, "a.png", "b.png", f"{'d' * 100}/{'e' * 200}.png"):  # the last: a 306-byte output name
        shutil.copy(data_dir / "hq" / "swinir_set5__head.png", hq / name)
    out = tmp_path / "out"
    result = _synthesize(hq, out, "--batch-size", "8")
    assert result.returncode == 1, result.stdout
    assert "3 pairs written, 0 already present, 1 files skipped" in result.stdout
    assert sorted(p.name for p in (out / "lq").iterdir()) == sorted(["a.png", "b.png", long_name])
    skipped = (out / "skipped.txt").read_text()
    assert skipped.startswith(f"{'d' * 100}/{'e' * 200}.png\toutput name too long: ") and "306 bytes" in skipped
    assert not [p for p in out.rglob(".*") if p.name != ".parts"]


def test_a_name_the_file_system_refuses_at_write_time_skips_that_input_only(tmp_path, data_dir, monkeypatch):
    """A file system with its own name rules (shorter limit, forbidden characters) refuses a name the plan
    could not foresee: that input is skipped and listed, the others of its batch keep their pairs."""
    hq = _two_inputs(tmp_path, data_dir)
    shutil.copy(data_dir / "hq" / "swinir_set5__head.png", hq / "c.png")
    real = atomic.write_bytes_atomic

    def refuse(path, data):
        if Path(path).name.startswith("swinir_set5__bird"):
            raise OSError(errno.ENAMETOOLONG, "File name too long", str(path))
        return real(path, data)

    monkeypatch.setattr("degrade_stream.cli.pair_files.write_bytes_atomic", refuse)
    out = tmp_path / "out"
    result = _synthesize(hq, out)
    assert result.returncode == 1
    assert "2 pairs written, 0 already present, 1 files skipped" in result.stdout
    assert "skipped swinir_set5__bird.png: the file system refuses its output name (File name too long)" \
        in result.stdout
    assert sorted(p.name for p in (out / "lq").iterdir()) == ["c.png", "swinir_set5__head.png"]
    assert sorted(p.name for p in (out / "gt").iterdir()) == ["c.png", "swinir_set5__head.png"]


def _basicsr_pairs(out: Path, meta_info: bool) -> list[dict]:
    from conftest import require_framework
    from degrade_stream.compat import alias_torchvision_functional_tensor

    datasets = require_framework("basicsr.data.paired_image_dataset", prepare=alias_torchvision_functional_tensor)
    opt = {"name": "pairs", "type": "PairedImageDataset", "dataroot_gt": str(out / "gt"),
           "dataroot_lq": str(out / "lq"), "io_backend": {"type": "disk"}, "phase": "val", "scale": 4}
    if meta_info:
        opt["meta_info_file"] = str(out / "meta_info.txt")
    dataset = datasets.PairedImageDataset(opt)
    return [dataset[i] for i in range(len(dataset))]


@pytest.mark.slow  # the first import of basicsr takes about 15 s
@pytest.mark.parametrize("meta_info", [False, True], ids=["folders", "meta_info_file"])
def test_variants_output_is_read_by_basicsr_paired_image_dataset(tmp_path, data_dir, meta_info):
    """Issue 22: with --variants K BasicSR asserted 'lq and gt datasets have different number of images'."""
    hq = _two_inputs(tmp_path, data_dir)
    out = tmp_path / "out"
    _synthesize(hq, out, "--variants", "3")
    samples = _basicsr_pairs(out, meta_info)
    assert len(samples) == 6
    records = {Path(r["lq"]).name: r for r in _records(out)}
    for sample in samples:
        record = records[Path(sample["lq_path"]).name]
        assert Path(sample["gt_path"]).name == Path(record["gt"]).name
        gt = np.asarray(Image.open(data_dir / "hq" / record["source"]).convert("RGB"))
        h, w = record["hq_size"]
        assert tuple(sample["gt"].shape) == (3, h, w) and tuple(sample["lq"].shape) == (3, h // 4, w // 4)
        expected = gt[:h, :w].astype(np.float32) / 255.0  # BasicSR hands out BGR->RGB float CHW
        assert np.array_equal(sample["gt"].numpy().transpose(1, 2, 0), expected)
    gt_files = sorted((out / "gt").iterdir())
    assert len({p.stat().st_ino for p in gt_files}) == 2  # one GT file per image, linked per variant
