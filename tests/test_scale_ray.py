"""Ray Data (degrade_stream/scale/ray_data.py) on a local Ray instance of 2 CPUs: pairs made over several blocks
by an actor pool of 2, and by plain tasks in the example script, are byte-identical to single-process
``synthesize`` for the same keys and seed. A real local instance (ray.init(num_cpus=2)), not Ray's deprecated
local_mode, which runs everything in one process and would hide the split."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import require_framework
from degrade_stream.io import encode_png
from reliability_helpers import run_in_process

# The whole module is slow: importing its framework takes seconds (conftest skips it under -m "not slow").
pytestmark = pytest.mark.slow
ray = require_framework("ray")
from degrade_stream.scale import ray_data  # noqa: E402
from degrade_stream.scale.ray_data import map_batches_args, read_hq, synthesize_rows  # noqa: E402
from degrade_stream.scale.rows import PairRows  # noqa: E402

CONFIG = "realesrgan"  # every random choice per sample
TESTS = Path(__file__).resolve().parent


def _png(image: np.ndarray | bytes) -> bytes:
    if isinstance(image, bytes):  # png=True
        return image
    return encode_png(torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float() / 255.0)


@pytest.fixture(scope="module")
def folders(tmp_path_factory, data_dir) -> tuple[Path, Path]:
    """Five HQ images of four sizes (one in a subfolder) and synthesize's pairs of them (seed 7, batches of 3)."""
    base = tmp_path_factory.mktemp("ray")
    hq = base / "hq"
    (hq / "sub").mkdir(parents=True)
    for i, path in enumerate(sorted((data_dir / "hq").iterdir())):
        shutil.copy(path, hq / ("sub" if i == 2 else "") / path.name)
    result = run_in_process("synthesize", "--config", CONFIG, "--hq", hq, "--out", base / "pairs", "--seed", "7",
                            "--batch-size", "3", "--no-progress")
    assert result.returncode == 0 and "5 pairs written" in result.stdout, result.stderr
    return hq, base / "pairs"


@pytest.fixture
def local_ray():
    """A local Ray instance of 2 CPUs whose workers can import tests/ray_pid_rows.py."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20,
             runtime_env={"env_vars": {"PYTHONPATH": str(TESTS), "OMP_NUM_THREADS": "1"}})
    try:
        yield ray
    finally:
        ray.shutdown()


def _check(rows: list[dict], pairs: Path) -> None:
    records = {json.loads(line)["name"]: json.loads(line) for line in (pairs / "pairs.jsonl").read_text().splitlines()}
    assert sorted(r["name"] for r in rows) == sorted(records)
    for row in rows:
        written = records[row["name"]]
        assert row["key"] == written["source"] and row["skipped"] == "" and int(row["seed"]) == written["seed"]
        assert _png(row["lq"]) == (pairs / written["lq"]).read_bytes(), row["name"]
        assert _png(row["gt"]) == (pairs / written["gt"]).read_bytes(), row["name"]
        assert json.loads(row["json"]) == {k: v for k, v in written.items() if k not in ("kind", "gt", "lq")}


def test_map_batches_args_give_gpu_actors_to_a_model_chain_and_tasks_to_a_handcrafted_one(data_dir, monkeypatch):
    model = map_batches_args("realesrgan_ddpm", root="s3://bucket/hq/")
    assert model["fn"] is PairRows and model["num_gpus"] == 1 and model["compute"].min_size == 1
    assert model["fn_constructor_kwargs"]["device"] == "cuda" and model["fn_constructor_kwargs"]["root"] == "bucket/hq"
    assert model["batch_size"] == 8 and model["batch_format"] == "numpy"
    cpu = map_batches_args("realesrgan_ddpm", actors=3, num_gpus=0)
    assert cpu["num_gpus"] == 0 and cpu["fn_constructor_kwargs"]["device"] == "cpu" and cpu["compute"].max_size == 3
    tasks = map_batches_args("realesrgan", root="tests/data/hq", num_cpus=0.5)
    assert tasks["fn"] is synthesize_rows and "compute" not in tasks and "num_gpus" not in tasks
    assert tasks["num_cpus"] == 0.5 and tasks["fn_kwargs"]["root"] == os.path.abspath("tests/data/hq")
    assert isinstance(tasks["fn_kwargs"]["config"], dict)  # resolved here: the workers need no config file
    monkeypatch.setattr(ray_data, "_WORKER_ROWS", {})
    batch = {"bytes": [(data_dir / "hq" / "swinir_set5__head.png").read_bytes()], "key": ["head.png"]}
    first = synthesize_rows(batch, **tasks["fn_kwargs"])
    assert len(ray_data._WORKER_ROWS) == 1 and synthesize_rows(batch, **tasks["fn_kwargs"])["lq"][0].shape == (70, 70, 3)
    assert len(ray_data._WORKER_ROWS) == 1 and first["key"] == ["head.png"]  # one chain per worker process


@pytest.mark.slow
def test_an_actor_pool_over_several_blocks_writes_synthesizes_bytes(folders, local_ray):
    hq, pairs = folders
    dataset = read_hq(hq).repartition(5)  # five blocks
    args = map_batches_args(CONFIG, seed=7, root=hq, actors=2, batch_size=2, num_cpus=0.5)
    args["fn"] = __import__("ray_pid_rows").PidPairRows
    args["compute"] = ray.data.ActorPoolStrategy(size=2, max_tasks_in_flight_per_actor=1)  # spread the blocks
    rows = dataset.map_batches(**args).take_all()
    _check(rows, pairs)
    assert len({int(r["pid"]) for r in rows}) == 2, "both actors made pairs"


@pytest.mark.slow
def test_the_example_script_writes_synthesizes_webdataset_shards_byte_for_byte(tmp_path):
    """examples/ray_synthesize.py on the shipped samples (its own local Ray instance; a handcrafted chain runs as
    plain Ray tasks, PNG bytes made in the workers), 2 variants, shards of 2 images: the same tar files as
    ``synthesize --format webdataset``, and ``webdataset`` reads them back."""
    wds = require_framework("webdataset")
    from degrade_stream.core.resources import assets_root

    samples = assets_root() / "samples"
    options = ("--seed", "5", "--variants", "2", "--shard-size", "2")
    reference = run_in_process("synthesize", "--config", CONFIG, "--hq", samples, "--out", tmp_path / "wds",
                               "--format", "webdataset", *options, "--no-progress")
    assert reference.returncode == 0, reference.stderr
    out = tmp_path / "shards"
    result = subprocess.run([sys.executable, str(TESTS.parent / "examples" / "ray_synthesize.py"), "--out", str(out),
                             "--format", "webdataset", *options, "--num-cpus", "2"],
                            capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    names = sorted(p.stem for p in samples.glob("*.png"))
    assert f"{len(names)} samples in 2 shards written" in result.stdout
    expected = sorted((tmp_path / "wds").glob("pairs-*.tar"))
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in expected]
    assert [p.name for p in expected] == ["pairs-000000.tar", "pairs-000001.tar"]
    for path in expected:
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name
    read = list(wds.WebDataset([str(p) for p in sorted(out.iterdir())], shardshuffle=False))
    assert sorted(s["__key__"] for s in read) == names and all({"lq_v0.png", "lq_v1.png"} <= set(s) for s in read)
