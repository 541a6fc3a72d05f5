"""synthesize's output folder: concurrent preparation, foreign or broken files in it, refusals write nothing."""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from reliability_helpers import run_in_process as run_cli
from degrade_stream.cli.output_folder import RUN_FILE, prepare_output

RUN_INFO = {"config_hash": "abc", "seed": 0, "variants": 1, "scale": 4, "degrade_stream": "test"}
CHAIN = {"stages": [{"type": "bicubic", "scale": 4}]}
PROCESSES, ROUNDS = 6, 80


def _prepare_many(root: str, barrier, errors) -> None:
    """One of several processes preparing the same fresh folders at the same instant, round after round."""
    for i in range(ROUNDS):
        barrier.wait()
        try:
            prepare_output(Path(root) / f"out{i}", RUN_INFO, CHAIN)
        except Exception as err:  # noqa: BLE001 - collected and reported by the test
            errors.put(f"round {i}: {type(err).__name__}: {err}")


@pytest.mark.slow
def test_many_processes_preparing_one_fresh_folder_at_once_all_succeed(tmp_path):
    """The torchrun/--shard race: before the fix one process saw another's gt/ before its run.json and
    refused the folder as 'in the way'. Six processes start each of 80 rounds together on a barrier."""
    context = multiprocessing.get_context("fork")  # the children touch files only, never torch
    barrier, errors = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_prepare_many, args=(str(tmp_path), barrier, errors)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == [], found[:3]
    for i in range(ROUNDS):
        out = tmp_path / f"out{i}"
        assert json.loads((out / RUN_FILE).read_text()) == RUN_INFO
        assert sorted(p.name for p in out.iterdir()) == [".parts", "chain.yaml", "gt", "lq", "run.json"]


def test_a_second_process_with_another_config_is_refused(tmp_path):
    out = tmp_path / "out"
    prepare_output(out, RUN_INFO, CHAIN)
    with pytest.raises(ValueError, match=r"holds pairs from a different config \(seed 0 there vs 1 now\)"):
        prepare_output(out, {**RUN_INFO, "seed": 1}, CHAIN)
    assert json.loads((out / RUN_FILE).read_text()) == RUN_INFO


def _listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.parametrize("content, problem", [
    ("[]", r"is not a run record written by 'degrade-stream synthesize' \(expected a JSON object, found list\)"),
    ("{\"seed\": ", r"is not a valid run record"),
    ("\xff\xfe", r"is not a valid run record"),
])
def test_a_foreign_run_json_is_a_one_line_error_and_nothing_is_written(tmp_path, data_dir, content, problem):
    out = tmp_path / "out"
    out.mkdir()
    (out / RUN_FILE).write_text(content, encoding="latin-1")
    old = time.time() - 60  # a left-over file: prepare_output waits up to 2 s only on a fresh one (a claimer writing)
    os.utime(out / RUN_FILE, (old, old))
    result = run_cli("synthesize", "--config", "bicubic", "--hq", data_dir / "hq", "--out", out, "--no-progress")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(out / RUN_FILE) in result.stderr
    assert re.search(problem, result.stderr), result.stderr
    assert _listing(out) == [RUN_FILE]


@pytest.mark.parametrize("blocker, kind", [(".parts", "file"), ("gt", "file"), ("lq", "file"),
                                           ("pairs.jsonl", "folder"), ("chain.yaml", "folder"),
                                           ("skipped.txt", "folder"), ("run.json", "folder")])
def test_a_path_in_the_way_of_a_resumed_folder_is_refused_before_anything_is_written(tmp_path, data_dir, blocker,
                                                                                     kind):
    """A folder with a valid run.json (a resume) but a file where a folder goes, or the reverse."""
    hq = tmp_path / "hq"
    hq.mkdir()
    shutil.copy(data_dir / "hq" / "swinir_set5__head.png", hq)
    out = tmp_path / "out"
    first = run_cli("synthesize", "--config", "bicubic", "--hq", hq, "--out", out, "--no-progress")
    assert first.returncode == 0, first.stderr
    path = out / blocker
    shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    path.mkdir() if kind == "folder" else path.write_text("mine")
    before = _listing(out)
    result = run_cli("synthesize", "--config", "bicubic", "--hq", hq, "--out", out, "--no-progress")
    assert result.returncode == 2
    expected = "expected a file, found a folder" if kind == "folder" else "expected a folder, found a file"
    assert f"{path} is in the way: {expected}" in result.stderr
    assert _listing(out) == before


def test_parts_file_in_a_fresh_folder_creates_no_gt_or_lq(tmp_path, data_dir):
    """Issue 13 item 17: gt/ and lq/ used to be created before the '.parts' file was found in the way."""
    out = tmp_path / "out"
    out.mkdir()
    (out / ".parts").write_text("mine")
    result = run_cli("synthesize", "--config", "bicubic", "--hq", data_dir / "hq", "--out", out, "--no-progress")
    assert result.returncode == 2 and "expected a folder, found a file" in result.stderr
    assert _listing(out) == [".parts"]


def test_out_below_a_file_is_a_one_line_error(tmp_path, data_dir):
    (tmp_path / "afile").write_text("x")
    result = run_cli("synthesize", "--config", "bicubic", "--hq", data_dir / "hq", "--out", tmp_path / "afile" / "sub")
    assert result.returncode == 2
    assert result.stderr == (f"degrade-stream synthesize: error: --out {tmp_path / 'afile' / 'sub'}: "
                             f"{tmp_path / 'afile'} is a file, not a folder\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
