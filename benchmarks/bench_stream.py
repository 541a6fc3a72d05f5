"""Stream benchmarks (issue 5). Run: ``.venv/bin/python benchmarks/bench_stream.py [--part a|b|all]``.

(a) Overhead: a DataLoader that decodes and crops PNGs, iterated bare (batches moved to the device)
    vs wrapped in PairStream with the identity chain; interleaved repeats, median epoch time.
    Also with a simulated training step per batch, where the background thread can overlap.
    Target: PairStream < 3% slower.
(c) A light chain (default ``bicubic``) called by hand on the DataLoader's batches (the user's own loop:
    move to the device, uint8 or float to float, per-sample seeds, ``chain(gt, seed=seeds)``) vs the same
    chain streamed by PairStream; iteration only and with a stand-in training step, at torch's default
    threads unless ``--threads``. Interleaved rounds, median epoch time.
    Target: < 5% slower iterating, no slower with a step.
(b) Pair cache: a DDPM-refined chain (default ``realesrgan_ddpm``) with K = 4 variants over
    12 epochs; steady-state pairs/s (epochs after the first K) with the cache vs without, and overall.
    Target: >= 4x. Skipped with a message when the chain config is not available.
Prints a markdown table to paste into benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import degrade_stream as ds  # noqa: E402
from degrade_stream.io import list_images, load_image  # noqa: E402


class DecodedCrops(Dataset):
    """Each item decodes a test PNG from disk and takes a fixed crop: a typical loader's work."""

    def __init__(self, count: int, size: int) -> None:
        self.paths = list_images(ROOT / "tests" / "data" / "hq")
        self.count, self.size = count, size

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> dict:
        image = load_image(self.paths[i % len(self.paths)])
        y = (i * 7) % (image.shape[1] - self.size)
        x = (i * 13) % (image.shape[2] - self.size)
        return {"gt": image[:, y:y + self.size, x:x + self.size], "key": f"{i}"}


def _step(x: torch.Tensor, weight: torch.Tensor) -> None:
    """A stand-in training step: a few convolutions on the batch."""
    for _ in range(3):
        x = torch.nn.functional.conv2d(x, weight, padding=1)
    if x.device.type == "cuda":
        torch.cuda.synchronize(x.device)


def bench_overhead(device: torch.device, repeats: int, items: int, batch: int, size: int, workers: int) -> list[str]:
    loader = DataLoader(DecodedCrops(items, size), batch_size=batch, num_workers=workers,
                        pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    stream = ds.PairStream(loader, "identity", device=device, prefetch=2)
    weight = torch.randn(3, 3, 3, 3, device=device) * 0.1

    def bare(with_step: bool) -> float:
        start = time.perf_counter()
        for b in loader:
            gt = b["gt"].to(device, non_blocking=True)
            if with_step:
                _step(gt, weight)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    def wrapped(with_step: bool) -> float:
        start = time.perf_counter()
        for b in stream:
            if with_step:
                _step(b["gt"], weight)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    rows = []
    for with_step in (False, True):
        bare(with_step), wrapped(with_step)  # warm-up (workers, caches)
        times = {"bare": [], "stream": []}
        for _ in range(repeats):
            times["bare"].append(bare(with_step))
            times["stream"].append(wrapped(with_step))
        tb, ts = statistics.median(times["bare"]), statistics.median(times["stream"])
        label = "with a 3-conv step per batch" if with_step else "iteration only"
        rows.append(f"| (a) {label} | {items / tb:.1f} | {items / ts:.1f} | {100 * (ts / tb - 1):+.1f}% |")
    stream.close()
    rows.append(_added_time_per_batch(device, repeats, batch, size))
    return rows


def _added_time_per_batch(device: torch.device, repeats: int, batch: int, size: int) -> str:
    """PairStream(identity) over in-memory batches: the work it adds per batch, with nothing to hide it."""
    batches = [{"gt": torch.rand(batch, 3, size, size), "key": [f"{i}.{j}" for j in range(batch)]} for i in range(16)]
    rows = []
    for prefetch in (0, 2):
        stream = ds.PairStream(batches, "identity", device=device, prefetch=prefetch)
        list(stream)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in stream:
                pass
            times.append((time.perf_counter() - start) / len(batches))
        stream.close()
        rows.append(f"{1000 * statistics.median(times):.2f} ms (prefetch={prefetch})")
    return f"| (a) added time per {batch}x3x{size}x{size} batch, in-memory loader | | {'; '.join(rows)} | |"


def _sync(device: torch.device) -> None:
    """Wait for queued device work (a no-op off CUDA)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_by_hand(loader: DataLoader, chain, device: torch.device, weight: torch.Tensor, with_step: bool) -> float:
    """Seconds for one epoch of the user's own loop: move to the device, to float, per-sample seeds, the chain."""
    from degrade_stream.stream.batches import to_float_images
    from degrade_stream.stream.seeds import sample_seeds

    start = time.perf_counter()
    for b in loader:
        gt = to_float_images(b["gt"].to(device, non_blocking=True))
        lq = chain(gt, seed=sample_seeds(0, 0, b["key"])).lq
        if with_step:
            _step(lq, weight)
    _sync(device)
    return time.perf_counter() - start


def _time_streamed(stream: ds.PairStream, stride: int, device: torch.device, weight: torch.Tensor,
                   with_step: bool) -> float:
    """Seconds for one epoch of ``stream`` with the float range check sampling every ``stride``-th pixel."""
    from degrade_stream.stream import batches as stream_batches

    default, stream_batches.SAMPLE_STRIDE = stream_batches.SAMPLE_STRIDE, stride  # 1: every pixel checked
    try:
        start = time.perf_counter()
        for b in stream:
            if with_step:
                _step(b["lq"], weight)
        _sync(device)
        return time.perf_counter() - start
    finally:
        stream_batches.SAMPLE_STRIDE = default


def _chain_streams(loader: DataLoader, chain, device: torch.device, before: bool) -> dict[str, tuple]:
    """The PairStreams to time, by name, each with its range-check stride (``before``: also as before issue 15)."""
    from degrade_stream.stream import batches as stream_batches

    streams = {"stream": (ds.PairStream(loader, chain, device=device, prefetch=2), stream_batches.SAMPLE_STRIDE)}
    if before:
        streams["before"] = (ds.PairStream(loader, chain, device=device, prefetch=2,
                                           threads=torch.get_num_threads()), 1)
    return streams


def bench_chain(device: torch.device, chain_name: str, repeats: int, items: int, batch: int, size: int,
                workers: int, before: bool = False) -> list[str]:
    """(c) ``chain_name`` by hand on the loader's batches vs streamed by PairStream, side by side. With
    ``before``, also a PairStream set up as before issue 15 (the background thread on torch's full thread
    count, every float batch range-checked in full), in the same interleaved rounds."""
    loader = DataLoader(DecodedCrops(items, size), batch_size=batch, num_workers=workers,
                        pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    chain = ds.load_chain(chain_name).to(device)
    streams = _chain_streams(loader, chain, device, before)
    weight = torch.randn(3, 3, 3, 3, device=device) * 0.1
    rows = []
    for with_step in (False, True):
        _time_by_hand(loader, chain, device, weight, with_step)  # warm-up (workers, caches)
        for stream, stride in streams.values():
            _time_streamed(stream, stride, device, weight, with_step)
        times: dict[str, list[float]] = {"hand": [], **{name: [] for name in streams}}
        for _ in range(repeats):
            times["hand"].append(_time_by_hand(loader, chain, device, weight, with_step))
            for name, (stream, stride) in streams.items():
                times[name].append(_time_streamed(stream, stride, device, weight, with_step))
        th = statistics.median(times["hand"])
        label = "with a 3-conv step on the LQ" if with_step else "iteration only"
        for name in streams:
            ts = statistics.median(times[name])
            tag = " (PairStream as before issue 15)" if name == "before" else ""
            rows.append(f"| (c) {chain_name}, {label}{tag} | {items / th:.1f} | {items / ts:.1f} | "
                        f"{100 * (ts / th - 1):+.1f}% |")
    for stream, _ in streams.values():
        stream.close()
    return rows


def bench_cache(device: torch.device, chain_name: str, items: int, batch: int, size: int, variants: int,
                epochs: int) -> list[str]:
    try:
        chain = ds.load_chain(chain_name)
    except (ValueError, FileNotFoundError) as err:
        return [f"| (b) {chain_name} | skipped: {err} | | |"]
    data = [DecodedCrops(items, size)[i] for i in range(items)]
    loader = DataLoader(data, batch_size=batch)
    epochs = max(epochs, variants + 1)

    def run(cache: ds.PairCache | None) -> list[float]:
        stream = ds.PairStream(loader, chain, device=device, seed=0, cache=cache)
        times = []
        for epoch in range(epochs):
            stream.set_epoch(epoch)
            start = time.perf_counter()
            for _ in stream:
                pass
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
        stream.close()
        return times

    with tempfile.TemporaryDirectory() as folder:
        cached = run(ds.PairCache(folder, variants=variants))
    plain = run(None)
    steady_cached = statistics.mean(cached[variants:])
    steady_plain = statistics.mean(plain[variants:])
    first = statistics.mean(cached[:variants])
    return [f"| (b) {chain_name}, K={variants}, {items} images {size}px, first {variants} epochs (filling) | "
            f"{items / statistics.mean(plain[:variants]):.2f} | {items / first:.2f} | |",
            f"| (b) {chain_name}, K={variants}, steady state (epochs {variants}..{epochs - 1}) | "
            f"{items / steady_plain:.2f} | {items / steady_cached:.1f} | x{steady_plain / steady_cached:.1f} |",
            f"| (b) {chain_name}, K={variants}, all {epochs} epochs | {items * epochs / sum(plain):.2f} | "
            f"{items * epochs / sum(cached):.2f} | x{sum(plain) / sum(cached):.1f} |"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["a", "b", "c", "all"], default="all")
    parser.add_argument("--light-chain", default="bicubic", help="(c) chain config")
    parser.add_argument("--before", action="store_true", help="(c) also PairStream as before issue 15")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--items", type=int, default=192, help="(a) images per epoch")
    parser.add_argument("--workers", type=int, default=1, help="(a) DataLoader workers")
    parser.add_argument("--chain", default="realesrgan_ddpm", help="(b) chain config")
    parser.add_argument("--cache-items", type=int, default=8, help="(b) images per epoch")
    parser.add_argument("--cache-size", type=int, default=64, help="(b) HQ side in pixels")
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--epochs", type=int, default=12, help="(b) epochs, the first K fill the cache")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{platform.processor() or 'CPU'}"
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else "?"
    print(f"device: {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} threads, load average {load}")
    print("| benchmark | bare / by hand / no cache (pairs/s) | PairStream / cache (pairs/s) | difference |")
    print("| --- | --- | --- | --- |")
    if args.part in ("a", "all"):
        for row in bench_overhead(device, args.repeats, args.items, 16, 128, args.workers):
            print(row, flush=True)
    if args.part in ("c", "all"):
        for row in bench_chain(device, args.light_chain, args.repeats, args.items, 16, 128, args.workers,
                               before=args.before):
            print(row, flush=True)
    if args.part in ("b", "all"):
        for row in bench_cache(device, args.chain, args.cache_items, 4, args.cache_size, args.variants,
                               args.epochs):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
