"""Ray Data vs single-process ``synthesize`` throughput (issue 24). Run (under the CPU lock on a shared machine):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ray.py [--images 96] [--rounds 2] [--cpus 2]

End-to-end seconds for the same job in one process: read N HQ crops of 200x200 PNG (from tests/data/hq, as
bench_synthesize.py), degrade them with ``realesrgan``, encode and write gt/lq PNGs. Rows: ``synthesize``
in this process (synthesize_pairs, batch 8, 1 torch thread); Ray Data on a local instance of ``--cpus``
CPUs (started once, its start-up reported apart) with an actor pool of 1 and of 2 actors (1 torch thread
each, 0.5 logical CPU each so the read tasks find a CPU) and with plain tasks, each writing Parquet (PNG
bytes). A Ray run includes starting its actors and loading the chain in them, so each mode also runs a
1-image job: the steady rate is (N - 1) / (T_N - T_1), the fixed cost T_1. Interleaved rounds, median;
the 1-minute load average before and after each run is printed beside it. Prints a markdown table for
benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_synthesize import make_inputs  # noqa: E402
from degrade_stream.cli.pair_writer import synthesize_pairs  # noqa: E402


def _single(config: str, hq: Path, out: Path, threads: int) -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        synthesize_pairs(config, hq, out, batch_size=8, device="cpu", progress=False)
    finally:
        torch.set_num_threads(before)


def _ray(config: str, hq: Path, out: Path, actors: int | None) -> None:
    from degrade_stream.scale.ray_data import read_hq, synthesize_dataset

    pairs = synthesize_dataset(read_hq(hq), config, root=hq, batch_size=8, actors=actors, num_cpus=0.5, png=True)
    pairs.write_parquet(str(out))


def _timed(run: Callable[[Path], None], out: Path) -> tuple[float, float, float]:
    """(seconds, load before, load after) of one run into a fresh ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    run(out)
    return time.perf_counter() - started, load_before, os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="realesrgan")
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray instance")
    args = parser.parse_args()
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    runs: dict[str, Callable[[Path, Path], None]] = {
        "synthesize, 1 thread": lambda hq, out: _single(args.config, hq, out, 1),
        "Ray Data, 1 actor": lambda hq, out: _ray(args.config, hq, out, 1),
        "Ray Data, 2 actors": lambda hq, out: _ray(args.config, hq, out, 2),
        "Ray Data, tasks": lambda hq, out: _ray(args.config, hq, out, None),
    }
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
    fixed: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        hq, one = Path(tmp) / "hq", Path(tmp) / "one"
        make_inputs(hq, args.images, 200)
        make_inputs(one, 1, 200)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
        ray_start = (time.perf_counter() - started, load_before, os.getloadavg()[0])
        try:
            for _ in range(args.rounds):
                for name, run in runs.items():
                    fixed[name].append(_timed(lambda out: run(one, out), Path(tmp) / "out"))
                    results[name].append(_timed(lambda out: run(hq, out), Path(tmp) / "out"))
                    print(name, fixed[name][-1], results[name][-1], flush=True)
        finally:
            ray.shutdown()
    _print_table(args, results, fixed, ray_start)


def _print_table(args: argparse.Namespace, results: dict[str, list[tuple[float, float, float]]],
                 fixed: dict[str, list[tuple[float, float, float]]], ray_start: tuple[float, float, float]) -> None:
    print(f"\nmachine: {platform.processor() or 'CPU'}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    print(f"{args.images} HQ images 200x200 -> x4, chain {args.config}, median of {args.rounds} interleaved rounds; "
          f"Ray start-up (not in the rows) {ray_start[0]:.1f} s, load {ray_start[1]:.1f} -> {ray_start[2]:.1f}\n")
    print("| run | N images: s (each round) | pairs/s | vs synthesize | 1 image: s | steady pairs/s | vs synthesize "
          "| load avg (1 min) before -> after, N-image runs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    base = statistics.median(r[0] for r in results["synthesize, 1 thread"])
    base_fixed = statistics.median(r[0] for r in fixed["synthesize, 1 thread"])
    base_steady = (args.images - 1) / (base - base_fixed)
    for name, rows in results.items():
        seconds, one = statistics.median(r[0] for r in rows), statistics.median(r[0] for r in fixed[name])
        steady = (args.images - 1) / (seconds - one) if seconds > one else float("nan")  # nan: N too small
        each = ", ".join(f"{r[0]:.1f}" for r in rows)
        loads = ", ".join(f"{r[1]:.1f} -> {r[2]:.1f}" for r in rows)
        print(f"| {name} | {seconds:.1f} ({each}) | {args.images / seconds:.2f} | {base / seconds:.2f}x | {one:.1f} "
              f"| {steady:.2f} | {steady / base_steady:.2f}x | {loads} |")


if __name__ == "__main__":
    main()
