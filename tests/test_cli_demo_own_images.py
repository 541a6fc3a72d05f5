"""``degrade-stream demo --hq DIR``: the contact sheet of the user's own images (natural and face rows by name,
large images fitted), and clear errors that leave nothing behind for a missing or empty folder, an unreadable
image or one too small for the demo's chains."""
from __future__ import annotations

import pytest
import torch.nn.functional as F
from PIL import Image

from conftest import DATA
from degrade_stream.cli.contact_sheet import sheet_size
from degrade_stream.io import load_image, save_image
from reliability_helpers import run_in_process


def _own_images(folder, face_size=96):
    folder.mkdir()
    save_image(load_image(DATA / "hq" / "swinir_set5__woman.png"), folder / "holiday.png")  # 228x344: cropped
    face = F.interpolate(load_image(DATA / "hq" / "mmagic_face__000001.png")[None], size=(face_size, face_size),
                         mode="bicubic", antialias=True)[0].clamp(0, 1)
    save_image(face, folder / "sub" / "my_face.png")


@pytest.mark.slow
def test_demo_draws_the_contact_sheet_of_your_own_images(tmp_path):
    _own_images(tmp_path / "mine")
    out = tmp_path / "demo"
    result = run_in_process("demo", "--hq", tmp_path / "mine", "--out", out, "--size", "128", "--t", "10,20",
                            "--face-t", "10,20")
    assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in (out / "handcrafted" / "gt").glob("*.png")) == ["holiday"]
    assert sorted(p.stem for p in (out / "face_gfpgan" / "gt").glob("*.png")) == ["sub__my_face"]
    assert Image.open(out / "handcrafted" / "gt" / "holiday.png").size == (128, 128)  # centre crop of 228x344
    assert Image.open(out / "face_gfpgan" / "lq" / "sub__my_face.png").size == (96, 96)  # a face is kept whole
    assert Image.open(out / "contact_sheet.png").size == sheet_size(rows=2, columns=5)


def test_demo_hq_errors_name_the_problem_and_leave_nothing(tmp_path):
    out = tmp_path / "demo"
    cases = {"missing": (tmp_path / "nope", "no such folder")}
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    cases["empty"] = (tmp_path / "empty", "no images in it")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.png").write_bytes(b"not a png")
    cases["unreadable"] = (tmp_path / "broken", "a.png")
    (tmp_path / "small").mkdir()
    save_image(load_image(DATA / "hq" / "mmagic_face__000001.png")[:, :20, :20], tmp_path / "small" / "face_tiny.png")
    cases["too small"] = (tmp_path / "small", "20x20 is too small for the demo's face rows")
    for case, (folder, message) in cases.items():
        result = run_in_process("demo", "--hq", folder, "--out", out)
        assert result.returncode == 2 and message in result.stderr, (case, result.stderr)
        assert str(folder if case != "unreadable" else folder / "a.png") in result.stderr, case
        assert not out.exists(), case
    result = run_in_process("demo", "--faces", "--out", out)
    assert result.returncode == 2 and "--faces applies to --hq" in result.stderr and not out.exists()


@pytest.mark.slow
def test_a_demo_that_fails_midway_removes_what_it_wrote(tmp_path, monkeypatch):
    from degrade_stream.cli import demo_cmd

    _own_images(tmp_path / "mine")
    calls = []

    def fail_on_the_second_run(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    real = demo_cmd.synthesize_pairs
    monkeypatch.setattr(demo_cmd, "synthesize_pairs", fail_on_the_second_run)
    kept = tmp_path / "existing"
    (kept / "mine.txt").parent.mkdir()
    (kept / "mine.txt").write_text("the user's file")
    for out in (tmp_path / "new_demo", kept):
        calls.clear()
        result = run_in_process("demo", "--hq", tmp_path / "mine", "--out", out, "--size", "64")
        assert result.returncode == 2 and "No space left" in result.stderr
    assert not (tmp_path / "new_demo").exists()
    assert [p.name for p in kept.iterdir()] == ["mine.txt"]  # the folders this run made are gone, the rest kept
