"""``degrade-stream demo``: runs with no arguments beyond --out and writes pairs plus the contact sheet."""
from __future__ import annotations

import json

from PIL import Image

import degrade_stream as ds
from cli_helpers import run_cli
from degrade_stream.cli.contact_sheet import sheet_size
from degrade_stream.core.resources import assets_root


def test_demo_writes_pairs_and_a_contact_sheet_of_the_expected_size(tmp_path):
    assert "realesrgan_ddpm" in ds.named_configs("chains")  # shipped, with the bundled demo model it uses
    out = tmp_path / "demo"
    result = run_cli("demo", "--out", out, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"contact sheet: {out / 'contact_sheet.png'}" in result.stdout
    samples = sorted(p.stem for p in (assets_root() / "samples").glob("*.png"))
    for folder, t in (("handcrafted", 0), ("refined_t100", 100), ("refined_t250", 250)):
        assert sorted(p.stem for p in (out / folder / "lq").glob("*.png")) == samples
        records = [json.loads(line) for line in (out / folder / "pairs.jsonl").read_text().splitlines()]
        assert [r["t"] for r in records] == [t] * len(samples)
    # every row starts from the same handcrafted degradation: same seeds in all three folders
    seeds = {folder: [json.loads(line)["seed"] for line in (out / folder / "pairs.jsonl").read_text().splitlines()]
             for folder in ("handcrafted", "refined_t100", "refined_t250")}
    assert seeds["handcrafted"] == seeds["refined_t100"] == seeds["refined_t250"]
    sheet = Image.open(out / "contact_sheet.png")
    assert sheet.size == sheet_size(rows=4, columns=len(samples))
