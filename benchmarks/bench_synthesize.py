"""Offline pair writer throughput (issue 7). Run: ``.venv/bin/python benchmarks/bench_synthesize.py [--device cuda]``.

End-to-end pairs/s of ``degrade-stream synthesize`` (read PNG, degrade, write HQ and LQ PNGs, record
the pair) on 32 HQ crops of 256x256 from tests/data/hq, ``realesrgan`` chain, at batch size 1 (one
image per chain call, as per-image offline scripts do) beside batch size 8, same process, same
input, interleaved rounds, median. Prints a markdown table for benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from degrade_stream.cli.pair_writer import synthesize_pairs  # noqa: E402
from degrade_stream.io import list_images, load_image, save_image  # noqa: E402


def make_inputs(folder: Path, count: int, size: int) -> None:
    """``count`` size x size crops of the test HQ images as PNG files."""
    images = [load_image(p) for p in list_images(ROOT / "tests" / "data" / "hq")]
    for i in range(count):
        image = images[i % len(images)]
        y, x = (i * 7) % (image.shape[1] - size), (i * 13) % (image.shape[2] - size)
        save_image(image[:, y:y + size, x:x + size], folder / f"crop_{i:03d}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--config", default="realesrgan")
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hq = Path(tmp) / "hq"
        make_inputs(hq, args.images, 200)  # the smallest test image is 228 px
        times: dict[int, list[float]] = {1: [], 8: []}
        for round_index in range(args.rounds + 1):  # round 0 warms up
            for batch_size in times:
                out = Path(tmp) / f"out_{batch_size}"
                shutil.rmtree(out, ignore_errors=True)
                started = time.perf_counter()
                synthesize_pairs(args.config, hq, out, batch_size=batch_size, device=args.device, progress=False)
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                if round_index:
                    times[batch_size].append(time.perf_counter() - started)
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"{platform.processor() or 'CPU'}"
    print(f"machine: {device}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    print(f"{args.images} HQ images 200x200 -> x4, chain {args.config}, median of {args.rounds} rounds\n")
    print("| batch size | seconds | pairs/s | vs batch 1 |")
    print("| --- | --- | --- | --- |")
    base = statistics.median(times[1])
    for batch_size, values in times.items():
        seconds = statistics.median(values)
        print(f"| {batch_size} | {seconds:.2f} | {args.images / seconds:.1f} | {base / seconds:.2f}x |")


if __name__ == "__main__":
    main()
