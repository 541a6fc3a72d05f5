"""Face degradation throughput (issue 14). Run: ``.venv/bin/python benchmarks/bench_face.py [--device cuda]
[--batch 8] [--size 512] [--threads 1 2]``.

The ``gfpgan`` chain on a batch of faces beside GFPGAN's own CPU per-image ``FFHQDegradationDataset``
(benchmarks/gfpgan_reference.py; its ``__getitem__`` reads and decodes each PNG, as in training), in one process, the
same faces, interleaved rounds; OpenCV and torch get the same thread count. Prints a markdown table (median time
per batch, images/s, the ratio of medians and of best rounds) and the load average before each configuration.
Target: >= 5x GFPGAN's path on 2 threads.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import degrade_stream as ds  # noqa: E402
from benchmarks.gfpgan_reference import degradation_options, make_dataset, opencv_int_params  # noqa: E402
from degrade_stream.io import list_images, load_image  # noqa: E402


def faces(batch: int, size: int) -> torch.Tensor:
    """``batch`` HQ images of the test data resized to ``size`` (the face first)."""
    paths = sorted(list_images(ROOT / "tests" / "data" / "hq"), key=lambda p: "face" not in p.name)
    images = [F.interpolate(load_image(p)[None], size=(size, size), mode="bicubic", antialias=True)[0] for p in paths]
    return torch.stack([images[i % len(images)] for i in range(batch)]).clamp(0, 1)


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def run(device: torch.device, batch: int, size: int, threads: int, rounds: int) -> dict[str, list[float]]:
    import cv2
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    np.random.seed(0)
    hq = faces(batch, size)
    folder = Path(tempfile.mkdtemp(prefix="bench_face_"))
    for i, img in enumerate(hq):
        cv2.imwrite(str(folder / f"{i:03d}.png"), (img.permute(1, 2, 0).numpy()[:, :, ::-1] * 255).round().astype(np.uint8))
    dataset = make_dataset(folder, degradation_options())
    chain = ds.load_chain("gfpgan", device=device)
    hq = hq.to(device)
    seeds = iter(range(10 ** 9))

    def ours() -> None:
        chain(hq, seed=next(seeds)).lq.cpu()

    def theirs() -> None:
        with opencv_int_params():
            for i in range(len(dataset)):
                dataset[i]

    runners = {"GFPGAN per image (BasicSR + cv2, CPU)": theirs, f"gfpgan chain ({device.type})": ours}
    times: dict[str, list[float]] = {k: [] for k in runners}
    with torch.no_grad():
        for fn in runners.values():
            fn()  # warm-up
        for _ in range(rounds):
            for key, fn in runners.items():
                t0 = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - t0)
    shutil.rmtree(folder)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"device: {device.type}; torch {torch.__version__}; {args.batch} faces at {args.size}x{args.size}; "
          f"median of {args.rounds} rounds\n")
    print("| threads | load before | pipeline | s / batch (median) | images/s | vs GFPGAN (median) | vs GFPGAN (best) |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: |")
    for threads in args.threads:
        load = _loadavg()
        times = run(device, args.batch, args.size, threads, args.rounds)
        base_key = next(iter(times))
        base, best_base = statistics.median(times[base_key]), min(times[base_key])
        for key, ts in times.items():
            med = statistics.median(ts)
            print(f"| {threads} | {load} | {key} | {med:.3f} | {args.batch / med:.1f} | {base / med:.2f}x "
                  f"| {best_base / min(ts):.2f}x |", flush=True)
    print(f"\nload average after: {_loadavg()}")


if __name__ == "__main__":
    main()
