"""Two CPU processes (gloo): each rank synthesises its shard, sharing one cache folder, and gets
exactly what one process gets; two processes writing the same entries leave no broken one."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

import degrade_stream as ds
from degrade_stream.atomic import is_temp_name
from core_helpers import CHAIN
from stream_helpers import HQCrops, collect

WORKER = Path(__file__).parent / "stream_dist_worker.py"


@pytest.mark.slow
def test_two_ranks_equal_one_process_and_concurrent_cache_writers_are_safe(tmp_path):
    shared, race = tmp_path / "shared", tmp_path / "race"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": os.environ.get("GLOO_SOCKET_IFNAME", "lo")}
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(r), "2", str(tmp_path / "rdzv"), str(shared),
                               str(race), str(tmp_path / f"rank{r}.pt")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for r in range(2)]
    logs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(logs)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]

    chain = ds.load_chain(CHAIN)
    dataset = HQCrops()
    single = collect(ds.PairStream(DataLoader(dataset, batch_size=4), chain, device="cpu", seed=7,
                                   cache=ds.PairCache(tmp_path / "single", variants=2)), epochs=(0, 1, 2))
    a, b = ranks[0]["sharded"], ranks[1]["sharded"]
    assert not a.keys() & b.keys() and a.keys() | b.keys() == single.keys()
    for key, lq in {**a, **b}.items():
        assert torch.equal(lq, single[key]), key

    # the race folder: every entry intact, and each rank returned the same LQ
    images = torch.stack([dataset[i]["gt"] for i in range(len(dataset))])
    keys = [dataset[i]["key"] for i in range(len(dataset))]
    reader = ds.PairCache(race, variants=1)
    for seed in range(4):
        lq, info = reader.synthesize(chain, images, keys, seed=seed, epoch=0)
        assert info.hit.all()
        assert torch.equal(lq, ranks[0]["raced"][seed]) and torch.equal(lq, ranks[1]["raced"][seed])
    assert reader.stats()["recomputed"] == 0
    assert not [p for p in race.rglob("*") if is_temp_name(p.name)]  # no temp file left by either rank
