"""``synthesize --format webdataset`` (issue 24): shards webdataset reads back, the folder layout's LQ bytes,
bytes independent of batch size and process count, resume and changed inputs, and the readers."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import degrade_stream as ds
from cli_helpers import cli_env, console_script, tree_digest
from conftest import require_framework
from degrade_stream.shards import gt_loader, pairs_folder, read_pair_samples
from reliability_helpers import run_in_process as run_cli

# The whole module is slow: importing its framework takes seconds (conftest skips it under -m "not slow").
pytestmark = pytest.mark.slow
wds = require_framework("webdataset")
CONFIG = "realesrgan"  # random choices per sample: determinism is not trivially true
FAST = "bicubic"  # where what is tested is which shards a rerun keeps, not the bytes of a random chain


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("pairs-*.tar"))}


def _synthesize(hq: Path, out: Path, *extra: str, config: str = CONFIG):
    result = run_cli("synthesize", "--config", config, "--hq", hq, "--out", out, "--seed", "7", "--no-progress",
                     *extra)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def shards(tmp_path_factory, data_dir) -> Path:
    out = tmp_path_factory.mktemp("wds") / "shards"
    result = _synthesize(data_dir / "hq", out, "--format", "webdataset", "--shard-size", "2", "--batch-size", "2")
    assert "5 pairs written, 0 already present, 0 files skipped" in result.stdout
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory, data_dir) -> Path:
    out = tmp_path_factory.mktemp("wds") / "folder"
    _synthesize(data_dir / "hq", out, "--batch-size", "2")
    return out


@pytest.mark.slow
def test_webdataset_reads_every_pair_back_with_the_folder_layouts_bytes(shards, folder):
    assert sorted(p.name for p in shards.glob("*.tar")) == ["pairs-000000.tar", "pairs-000001.tar",
                                                            "pairs-000002.tar"]
    records = {r["source"]: r for r in map(json.loads, (folder / "pairs.jsonl").read_text().splitlines())}
    seen = []
    for sample in wds.WebDataset([str(p) for p in sorted(shards.glob("*.tar"))], shardshuffle=False):
        assert sorted(k for k in sample if not k.startswith("__")) == ["gt.png", "json", "lq.png"]
        info = json.loads(sample["json"])
        record = records[info["source"]]
        assert sample["__key__"] == record["name"] and info["name"] == record["name"]
        assert sample["lq.png"] == (folder / record["lq"]).read_bytes()  # the same LQ bytes
        assert sample["gt.png"] == (folder / record["gt"]).read_bytes()
        lq = info["lq"]["lq.png"]
        assert (lq["seed"], lq["params"], lq["t"]) == (record["seed"], record["params"], record["t"])
        assert (info["hq_sha256"], info["hq_bytes"], info["hq_size"]) == (
            record["hq_sha256"], record["hq_bytes"], record["hq_size"])
        seen.append(info["source"])
    assert sorted(seen) == sorted(records)


@pytest.mark.slow
def test_tar_headers_are_fixed(shards):
    with tarfile.open(shards / "pairs-000000.tar") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {(0, 0, 0, "", "", 0o444)}


@pytest.mark.slow
def test_shard_bytes_do_not_depend_on_batch_size_or_process_count(shards, data_dir, tmp_path):
    single = tmp_path / "b1"
    _synthesize(data_dir / "hq", single, "--format", "webdataset", "--shard-size", "2", "--batch-size", "1")
    split = tmp_path / "split"
    for part in ("1/2", "0/2"):
        _synthesize(data_dir / "hq", split, "--format", "webdataset", "--shard-size", "2", "--batch-size", "3",
                    "--shard", part)
    assert _digests(single) == _digests(shards) == _digests(split)
    assert (split / "shards.jsonl").read_text() == (shards / "shards.jsonl").read_text()


def test_a_changed_input_rewrites_its_shard_only_and_a_lost_or_cut_shard_is_rewritten(data_dir, tmp_path):
    hq = tmp_path / "hq"
    shutil.copytree(data_dir / "hq", hq)
    out, args = tmp_path / "out", ("--format", "webdataset", "--shard-size", "2", "--batch-size", "2")
    _synthesize(hq, out, *args, config=FAST)
    before = {p.name: p.stat().st_ino for p in out.glob("*.tar")}
    pixels = np.asarray(Image.open(hq / "swinir_set5__head.png").convert("RGB")).copy()
    pixels[:30] = 0
    Image.fromarray(pixels).save(hq / "swinir_set5__head.png")
    again = _synthesize(hq, out, *args, config=FAST)
    assert "2 pairs written (1 inputs changed since their pairs were written: redone), 3 already present" \
        in again.stdout
    assert "redone swinir_set5__head.png" in again.stdout
    after = {p.name: p.stat().st_ino for p in out.glob("*.tar")}
    changed = sorted(n for n in after if after[n] != before[n])
    assert changed == ["pairs-000001.tar"]  # the shard holding head (and bird) only
    fresh = tmp_path / "fresh"
    _synthesize(hq, fresh, *args, config=FAST)
    assert _digests(out) == _digests(fresh)
    (out / "pairs-000000.tar").unlink()
    data = (out / "pairs-000002.tar").read_bytes()
    (out / "pairs-000002.tar").write_bytes(data[: len(data) // 2])
    third = _synthesize(hq, out, *args, config=FAST)
    assert "3 pairs written, 2 already present" in third.stdout
    assert _digests(out) == _digests(fresh)


def test_fewer_inputs_leave_no_stale_shard_behind(data_dir, tmp_path):
    hq = tmp_path / "hq"
    shutil.copytree(data_dir / "hq", hq)
    out, args = tmp_path / "out", ("--format", "webdataset", "--shard-size", "2")
    _synthesize(hq, out, *args, config=FAST)
    (hq / "swinir_set5__woman.png").unlink()
    (hq / "swinir_set5__bird.png").unlink()
    _synthesize(hq, out, *args, config=FAST)
    assert sorted(p.name for p in out.glob("*.tar")) == ["pairs-000000.tar", "pairs-000001.tar"]
    assert sorted(info["source"] for _, info, _, _ in read_pair_samples(out)) == sorted(p.name for p in hq.iterdir())


@pytest.mark.slow
def test_a_killed_run_resumes_to_byte_identical_shards(shards, data_dir, tmp_path):
    out = tmp_path / "killed"
    args = [console_script(), "synthesize", "--config", CONFIG, "--hq", str(data_dir / "hq"), "--out", str(out),
            "--seed", "7", "--batch-size", "2", "--no-progress", "--format", "webdataset", "--shard-size", "2"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None and not any(out.glob("pairs-*.tar")):
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 1 <= len(list(out.glob("pairs-*.tar"))) < 3, "the run was not interrupted after its first shard"
    result = run_cli(*args[1:])
    assert result.returncode == 0, result.stderr
    assert _digests(out) == _digests(shards)
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name != ".parts"]


def test_variants_are_lq_v_members(data_dir, tmp_path):
    hq = tmp_path / "hq"
    hq.mkdir()
    shutil.copy(data_dir / "hq" / "swinir_set5__head.png", hq / "a.b.png")  # a dot in the name: escaped key
    out = tmp_path / "out"
    _synthesize(hq, out, "--format", "webdataset", "--variants", "3")
    folder = tmp_path / "folder"
    _synthesize(hq, folder, "--variants", "3")  # a random chain: each variant's LQ differs
    (key, info, gt, lq), = list(read_pair_samples(out))
    assert key == "a%2Eb" and info["name"] == "a.b" and sorted(lq) == [0, 1, 2]
    for k in range(3):
        assert lq[k] == (folder / "lq" / f"a.b_v{k}.png").read_bytes()
        assert info["lq"][f"lq_v{k}.png"]["variant"] == k
    with pairs_folder(out) as view:  # the folder layout, extracted
        assert tree_digest(view / "gt") == tree_digest(folder / "gt")
        assert tree_digest(view / "lq") == tree_digest(folder / "lq")
    assert not view.exists()


@pytest.mark.slow
def test_gt_loader_feeds_pair_stream_with_the_shard_keys(shards):
    stream = ds.PairStream(gt_loader(shards, batch_size=1), "bicubic", device="cpu", seed=0, prefetch=0)
    keys, gts = [], {}
    for batch in stream:
        keys.extend(batch["key"])
        gts[batch["key"][0]] = batch["gt"][0]
        assert batch["lq"].shape[-1] * 4 == batch["gt"].shape[-1]
    samples = {key: gt for key, _, gt, _ in read_pair_samples(shards)}
    assert keys == list(samples)
    for key, png in samples.items():
        expected = torch.from_numpy(np.asarray(Image.open(io.BytesIO(png))).transpose(2, 0, 1).copy())
        assert torch.equal((gts[key] * 255).round().to(torch.uint8), expected)


@pytest.mark.slow
def test_evaluate_and_compare_chains_take_a_shard_folder(shards, folder, data_dir, tmp_path):
    reports = []
    for synth in (shards, folder):
        out = tmp_path / f"{synth.name}.json"
        result = run_cli("evaluate", "--real", data_dir / "hq", "--synth", synth, "--no-classifier",
                         "--patches-per-image", "4", "--no-progress", "--out", out)
        assert result.returncode == 0, result.stderr
        reports.append(json.loads(out.read_text()))
    assert reports[0]["structure"] == reports[1]["structure"] and reports[0]["realism"] == reports[1]["realism"]


@pytest.mark.slow
def test_compare_chains_takes_a_shard_folder(data_dir, tmp_path):
    """Real aligned pairs stored as shards (HQ and LQ at one size: a scale-1 chain writes such pairs)."""
    shards = tmp_path / "pairs"
    run_cli("synthesize", "--config", "identity", "--hq", data_dir / "hq", "--out", shards, "--format", "webdataset",
            "--no-progress")
    out = tmp_path / "report.json"
    result = run_cli("compare-chains", "--train", shards, "--test", shards, "--chains", "identity", "--out", out,
                     "--steps", "2", "--seeds", "0", "--crop", "32", "--batch-size", "2", "--classifier-steps", "5",
                     "--eval-crop", "0", "--device", "cpu", "--no-progress")
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["train_pairs"] == report["test_pairs"] == 5


def test_without_the_webdataset_package_the_error_says_how_to_install_it(data_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "webdataset", None)  # import webdataset now fails
    result = run_cli("synthesize", "--config", CONFIG, "--hq", data_dir / "hq", "--out", tmp_path / "out",
                     "--format", "webdataset", "--no-progress")
    assert result.returncode == 2 and 'pip install "degrade_stream[webdataset]"' in result.stderr
    assert "unexpected" not in result.stderr and not (tmp_path / "out").exists()
