"""The cost of the integrity checks (issue 23 item 2). Run: ``.venv/bin/python benchmarks/bench_integrity.py``.

(a) PairCache's HQ content fingerprint (``verify_hq=True``, the default): a batch of hits with it on and
    off, beside what the fingerprint alone costs and what a miss costs (the ``realesrgan`` chain run on the
    batch). Interleaved rounds, median seconds per batch of 8, on one CPU thread.
(b) synthesize's input fingerprint on a rerun: SHA-256 of the input files read from the page cache vs
    decoding them (what a fresh run does per input anyway), over the shipped test images.
Prints markdown tables for benchmarks/RESULTS.md ("Pair integrity"), with the machine's load.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import degrade_stream as ds  # noqa: E402
from degrade_stream.offline.fingerprint import file_fingerprint  # noqa: E402
from degrade_stream.io import list_images, load_image  # noqa: E402
from degrade_stream.stream.cache_identity import hq_fingerprints  # noqa: E402
from degrade_stream.stream.seeds import content_keys  # noqa: E402

ROUNDS = 7


def _median_s(work: dict[str, Callable[[], object]], rounds: int = ROUNDS) -> dict[str, float]:
    """Median wall time of each callable over interleaved rounds (one warm-up call each first)."""
    for fn in work.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(rounds):
        for name, fn in work.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def cache_rows(size: int) -> list[str]:
    """One table row per measurement of part (a) for HQ batches of 8 x 3 x size x size."""
    hq = torch.rand(8, 3, size, size, generator=torch.Generator().manual_seed(0))
    keys = [f"img{i}.png" for i in range(8)]
    chain = ds.load_chain("realesrgan")
    with tempfile.TemporaryDirectory() as root:
        on, off = ds.PairCache(Path(root) / "on"), ds.PairCache(Path(root) / "off", verify_hq=False)
        on.synthesize(chain, hq, keys)
        off.synthesize(chain, hq, keys)
        seconds = _median_s({
            "fingerprint alone: SHA-256 of the pixel bytes (cache_identity.hq_fingerprints)": lambda: hq_fingerprints(hq),
            "for comparison: BLAKE2b of the float32 pixels (seeds.content_keys)": lambda: content_keys(hq),
            "hit, verify_hq=True (default)": lambda: on.synthesize(chain, hq, keys),
            "hit, verify_hq=False": lambda: off.synthesize(chain, hq, keys),
            "miss: the realesrgan chain on the batch": lambda: chain(hq, seed=0),
        })
    return [f"| {size}x{size} | {name} | {1000 * s:.1f} |" for name, s in seconds.items()]


def rerun_rows() -> list[str]:
    """Part (b): per-file cost of the rerun's fingerprint vs decoding, over the shipped test images."""
    paths = list_images(ROOT / "tests" / "data" / "hq")
    megabytes = sum(p.stat().st_size for p in paths) / 2**20
    seconds = _median_s({
        "SHA-256 of the file (rerun check)": lambda: [file_fingerprint(p) for p in paths],
        "decode the file (load_image)": lambda: [load_image(p) for p in paths],
    })
    return [f"| {name} | {1000 * s / len(paths):.2f} | {megabytes / s:.0f} |" for name, s in seconds.items()]


def main() -> None:
    torch.set_num_threads(1)
    load = os.getloadavg()
    print(f"torch {torch.__version__}, 1 thread, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
          f"(1/5/15 min) on {os.cpu_count()} cores\n")
    print("| HQ batch of 8 | what | ms per batch (median of 7) |\n| --- | --- | --- |")
    for size in (256, 512):
        print("\n".join(cache_rows(size)))
    print("\n| per input file | ms per file (median of 7) | MB/s |\n| --- | --- | --- |")
    print("\n".join(rerun_rows()))
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")


if __name__ == "__main__":
    main()
