"""``degrade-stream demo``: runs with no arguments beyond --out and writes pairs plus the contact sheet: the
natural samples with realesrgan_ddpm at two t, the face with gfpgan, realesrgan_face and realesrgan_face_ddpm."""
from __future__ import annotations

import json

import pytest
from PIL import Image

import degrade_stream as ds
from cli_helpers import run_cli
from degrade_stream.cli.contact_sheet import sheet_size
from degrade_stream.core.resources import assets_root
from reliability_helpers import run_in_process


def _records(folder):
    return [json.loads(line) for line in (folder / "pairs.jsonl").read_text().splitlines()]


@pytest.mark.slow  # the console script itself, end to end
def test_demo_writes_pairs_and_a_contact_sheet_of_the_expected_size(tmp_path):
    assert {"realesrgan_ddpm", "realesrgan_face_ddpm", "gfpgan"} <= set(ds.named_configs("chains"))
    out = tmp_path / "demo"
    result = run_cli("demo", "--out", out, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"contact sheet: {out / 'contact_sheet.png'}" in result.stdout
    samples = sorted(p.stem for p in (assets_root() / "samples").glob("*.png"))
    faces = [s for s in samples if "face" in s]
    natural = [s for s in samples if s not in faces]
    assert faces and natural
    folders = {"handcrafted": (natural, 0), "refined_t100": (natural, 100), "refined_t250": (natural, 250),
               "face_handcrafted": (faces, 0), "face_refined_t100": (faces, 100), "face_refined_t400": (faces, 400),
               "face_gfpgan": (faces, None)}
    for folder, (names, t) in folders.items():
        assert sorted(p.stem for p in (out / folder / "lq").glob("*.png")) == names, folder
        records = _records(out / folder)
        assert [r.get("t") for r in records] == [t] * len(names), folder
    # face LQ at the HQ size, natural LQ at 1/4
    for folder in ("face_gfpgan", "face_handcrafted", "face_refined_t400"):
        for name in faces:
            assert Image.open(out / folder / "lq" / f"{name}.png").size == Image.open(out / folder / "gt" / f"{name}.png").size
    name = natural[0]
    hq_w, hq_h = Image.open(out / "handcrafted" / "gt" / f"{name}.png").size
    assert Image.open(out / "refined_t250" / "lq" / f"{name}.png").size == (hq_w // 4, hq_h // 4)
    # every refined tile of a row starts from the same handcrafted degradation: same seeds
    for group in (("handcrafted", "refined_t100", "refined_t250"),
                  ("face_handcrafted", "face_refined_t100", "face_refined_t400")):
        seeds = [[r["seed"] for r in _records(out / folder)] for folder in group]
        assert seeds[0] == seeds[1] == seeds[2]
    sheet = Image.open(out / "contact_sheet.png")
    assert sheet.size == sheet_size(rows=len(samples), columns=5)  # the face row: HQ + 4 LQ


def test_demo_checks_both_t_arguments_before_writing(tmp_path):
    out = tmp_path / "demo"
    for args in (("--t", "100"), ("--face-t", "0,100"), ("--face-t", "100,2000")):
        result = run_in_process("demo", "--out", out, *args)
        assert result.returncode != 0 and not out.exists(), (args, result.stderr)
        assert ("--face-t" if args[0] == "--face-t" else "--t") in result.stderr or "2000" in result.stderr, result.stderr
