"""PairRows (degrade_stream/scale/rows.py), the per-batch function behind the Ray Data integration, without Ray:
every pair is byte-identical to what ``synthesize`` writes for the same key and seed, whatever the rows' order,
grouping or image column; rows synthesize would skip say why; the core package never imports the module."""
from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from degrade_stream.io import encode_png, list_images
from conftest import require_framework
from degrade_stream.scale.rows import PairRows, row_key, strip_scheme
from degrade_stream.scale.shard_rows import write_row_shards
from reliability_helpers import run_in_process

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "realesrgan"  # every random choice per sample
NAMES = ("mmagic_face__000001.png", "swinir_set5__butterfly.png", "swinir_set5__head.png")  # 256, 256, 280 px


@pytest.fixture(scope="module")
def folders(tmp_path_factory, data_dir) -> tuple[Path, Path]:
    """An HQ folder (one image in a subfolder) and synthesize's pairs of it, 2 variants, seed 7, batches of 2."""
    base = tmp_path_factory.mktemp("rows")
    hq = base / "hq"
    (hq / "sub").mkdir(parents=True)
    for name in NAMES[:2]:
        shutil.copy(data_dir / "hq" / name, hq / name)
    shutil.copy(data_dir / "hq" / NAMES[2], hq / "sub" / NAMES[2])
    result = run_in_process("synthesize", "--config", CONFIG, "--hq", hq, "--out", base / "pairs", "--seed", "7",
                            "--variants", "2", "--batch-size", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    return hq, base / "pairs"


def _check_against_synthesize(out: dict, pairs: Path, fingerprint: bool = True) -> None:
    """Every output row is synthesize's pair: PNG bytes, size and record (with the file's fingerprint when the
    rows carried the file's bytes)."""
    records = {(r["name"], r["variant"]): r for r in map(json.loads, (pairs / "pairs.jsonl").read_text().splitlines())}
    rows = [dict(zip(out, values)) for values in zip(*out.values())]
    assert sorted((r["name"], None if r["variant"] < 0 else int(r["variant"])) for r in rows) == sorted(records)
    left_out = ("kind", "gt", "lq") if fingerprint else ("kind", "gt", "lq", "hq_sha256", "hq_bytes")
    for row in rows:
        written = records[row["name"], None if row["variant"] < 0 else int(row["variant"])]
        assert row["skipped"] == "" and [row["height"], row["width"]] == written["hq_size"]
        assert _png(row["lq"]) == (pairs / written["lq"]).read_bytes(), row["name"]  # the same PNG bytes
        assert _png(row["gt"]) == (pairs / written["gt"]).read_bytes(), row["name"]
        assert json.loads(row["json"]) == {k: v for k, v in written.items() if k not in left_out}


def _png(image: np.ndarray | bytes) -> bytes:
    """The PNG bytes of an output image (an 8-bit HWC array, or already PNG bytes with png=True)."""
    if isinstance(image, bytes):
        return image
    return encode_png(torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float() / 255.0)


@pytest.mark.slow
def test_an_image_column_a_key_column_and_mixed_sizes_in_one_batch_give_the_same_pairs(folders):
    hq, pairs = folders
    files = list_images(hq)
    keys = [p.relative_to(hq).as_posix() for p in files]
    batch = {"image": [np.asarray(Image.open(p).convert("RGB")) for p in files], "key": keys}
    rows = PairRows(CONFIG, seed=7, variants=2, batch_size=3, device="cpu")  # chain calls of 3, not 2 as synthesize
    out = rows(batch)
    assert out["lq"][0].dtype == np.uint8 and out["lq"][0].ndim == 3
    _check_against_synthesize(out, pairs, fingerprint=False)  # arrays, not files: no file fingerprint


@pytest.mark.slow
def test_rows_in_any_order_give_synthesizes_pairs_and_sorted_its_webdataset_shards_byte_for_byte(folders, tmp_path):
    """Rows in another order than synthesize's, one per chain call, PNG bytes: synthesize's pair files and records;
    sorted as synthesize orders images and written by write_row_shards: the same tar files as ``synthesize --format
    webdataset`` (2 variants; shards of 2 images, so 2 shards); an unreadable file is skipped, with its reason."""
    require_framework("webdataset")
    hq, pairs = folders
    result = run_in_process("synthesize", "--config", CONFIG, "--hq", hq, "--out", tmp_path / "wds", "--seed", "7",
                            "--variants", "2", "--format", "webdataset", "--shard-size", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    files = list_images(hq)[::-1]
    batch = {"bytes": [p.read_bytes() for p in files] + [b"junk"],
             "path": [str(p.resolve()) for p in files] + [str((hq / "junk.png").resolve())]}
    out = PairRows(CONFIG, seed=7, root=str(hq.resolve()), variants=2, batch_size=1, device="cpu", png=True)(batch)
    junk = out["key"].index("junk.png")
    assert out["skipped"][junk].startswith("cannot read image junk.png") and isinstance(out["lq"][-1], bytes)
    _check_against_synthesize({c: [x for i, x in enumerate(v) if i != junk] for c, v in out.items()}, pairs)
    rows = sorted((dict(zip(out, values)) for values in zip(*out.values())),
                  key=lambda r: (r["height"], r["width"], r["name"], r["variant"]))
    shards, skipped = write_row_shards(rows, tmp_path / "rows", shard_size=2)
    expected = sorted((tmp_path / "wds").glob("pairs-*.tar"))
    assert [s.path.name for s in shards] == [p.name for p in expected] == ["pairs-000000.tar", "pairs-000001.tar"]
    for shard, path in zip(shards, expected):
        assert shard.path.read_bytes() == path.read_bytes(), path.name
    assert list(skipped) == ["junk.png"]


def test_rows_synthesize_would_skip_say_why_and_the_others_go_on(folders, tmp_path):
    hq, _ = folders
    small = tmp_path / "small.png"
    Image.new("RGB", (31, 33), (90, 120, 200)).save(small)
    batch = {"bytes": [b"not an image", small.read_bytes(), (hq / NAMES[0]).read_bytes()],
             "key": ["garbage.png", "small.png", NAMES[0]]}
    out = PairRows(CONFIG, seed=7, device="cpu")(batch)
    assert out["skipped"][0].startswith("cannot read image garbage.png")
    assert out["skipped"][1] == ("too small: 28x32 px after cropping to a multiple of the scale 4; this chain needs "
                                 "at least 32x32 px")
    assert out["skipped"][2] == "" and out["lq"][2].shape == (64, 64, 3)
    assert out["lq"][0].shape == (0, 0, 3) and list(out["variant"]) == [-1, -1, -1]
    assert list(out["height"]) == [0, 0, 256] and out["name"][2] == NAMES[0][:-4]


def test_bad_rows_and_options_are_clear_errors(folders):
    hq, _ = folders
    rows = PairRows(CONFIG, seed=7, device="cpu")
    with pytest.raises(ValueError, match="give root="):
        rows({"bytes": [b""], "path": ["/x/a.png"]})
    with pytest.raises(KeyError, match="needs a key column"):
        rows({"bytes": [b""]})
    out = rows({"image": [np.zeros((64, 64), np.uint8)], "key": ["gray.png"]})
    assert "8-bit (H, W, 3) RGB arrays, got uint8 (64, 64)" in out["skipped"][0]
    with pytest.raises(ValueError, match="variants must be an integer"):
        PairRows(CONFIG, variants=0)
    with pytest.raises(ValueError, match="is not under root"):
        row_key("/data/other/a.png", "/data/hq")


def test_keys_are_paths_relative_to_the_root_as_ray_reports_them():
    assert strip_scheme("s3://bucket/hq/a.png") == "bucket/hq/a.png"
    assert row_key("bucket/hq/sub/a.png", "s3://bucket/hq/") == "sub/a.png"
    assert row_key("/data/hq/a.png", "local:///data/hq") == "a.png"


def _imports(path: Path) -> list[str]:
    """Absolute names of every module (and ``from X import name``: X.name) that the file at ``path`` imports."""
    package = ["degrade_stream", *path.relative_to(ROOT / "degrade_stream").parent.parts]
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            prefix = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join(prefix + ([node.module] if node.module else []))
            found.extend([base] + [f"{base}.{a.name}" for a in node.names])
    return found


def test_the_core_package_never_imports_the_scale_package_and_only_ray_data_imports_ray():
    ray_users, scale_users = set(), set()
    for path in sorted((ROOT / "degrade_stream").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for name in _imports(path):
            if name == "ray" or name.startswith("ray."):
                ray_users.add(relative)
            if name.startswith("degrade_stream.scale") and not relative.startswith("degrade_stream/scale/"):
                scale_users.add(relative)
    assert ray_users == {"degrade_stream/scale/ray_data.py"} and not scale_users, (ray_users, scale_users)
    # the check sees relative imports
    assert "degrade_stream.scale.rows" in _imports(ROOT / "degrade_stream" / "scale" / "ray_data.py")
