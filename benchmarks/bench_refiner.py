"""Refiner throughput (issue 4). Run: ``.venv/bin/python benchmarks/bench_refiner.py [--device cuda]``.

Images/s of the ``ddpm_refine`` stage for the ``tiny`` UNet (the bundled demo weights) and the
release-size UNet (channels 128,256,512,512; random weights, same cost) at LQ 64x64 and 128x128,
with DDIM K = 10 and 25 and with ancestral DDPM sampling, every sample at t = ``--t`` (250, the top
of the natural-image range, so ancestral sampling runs t network evaluations and DDIM K).
Achieved FLOP/s = (FLOPs of one UNet forward, counted by torch.utils.flop_counter, x evaluations
per image x images/s). On CUDA the script also measures the dense bf16 matmul rate and reports the
fraction of it reached. Median of ``--rounds`` timed batches after one warm-up batch.
Prints a markdown table for benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from degrade_stream.diffusion.checkpoint import write_checkpoint  # noqa: E402
from degrade_stream.diffusion.presets import PRESETS  # noqa: E402
from degrade_stream.diffusion.refine import DDPMRefine  # noqa: E402
from degrade_stream.diffusion.unet import UNet  # noqa: E402

SAMPLERS = {"ddim10": ("ddim", 10), "ddim25": ("ddim", 25), "ancestral": ("ddpm", 0)}


def release_checkpoint(folder: Path) -> str:
    """A checkpoint folder with a randomly initialised release-size UNet (the cost is what matters)."""
    torch.manual_seed(0)
    state = UNet(PRESETS["release"]).state_dict()
    config = {"model": PRESETS["release"].to_dict(), "schedule": {"kind": "linear", "timesteps": 1000}}
    return str(write_checkpoint(folder, 0, state, state, None, config))


def forward_flops(denoiser, size: int) -> float:
    """FLOPs of one UNet forward on one (3, size, size) image."""
    x = torch.zeros(1, 3, size, size, device=denoiser.device)
    with FlopCounterMode(display=False) as counter:
        denoiser(x, torch.zeros(1, dtype=torch.long, device=denoiser.device))
    return float(counter.get_total_flops())


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_batch(stage: DDPMRefine, x: torch.Tensor, t: int, rounds: int) -> float:
    """Median seconds per batch (after one warm-up batch)."""
    params = {"t": torch.full((x.shape[0],), t, dtype=torch.long, device=x.device),
              "noise_seed": torch.arange(x.shape[0], device=x.device)}
    stage.apply(x, params)
    sync(x.device)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        stage.apply(x, params)
        sync(x.device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_rate(device: torch.device, dtype: torch.dtype = torch.bfloat16, n: int = 8192, reps: int = 20) -> float:
    """Measured dense matmul FLOP/s in ``dtype`` (the practical ceiling for the UNet's convolutions)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - start)


def bf16_matmul_rate(device: torch.device, n: int = 8192, reps: int = 20) -> float:
    """Measured dense bf16 matmul FLOP/s."""
    return matmul_rate(device, torch.bfloat16, n, reps)


def follow_t_rows(checkpoint: str, device: torch.device, size: int, batch: int, rounds: int, steps: int = 25,
                  t_per_step: int = 10, t_top: int = 250) -> list[dict]:
    """Images/s with t uniform over [0, t_top] (an evenly spread batch, as a uniform draw fills it), without and
    with ``t_per_step``, side by side; and the cost of a batch with every t = 0 against one with every t = t_top.
    The two samplers alternate round by round, so a change in the machine's load hits both alike. Besides wall
    time, the process's CPU time per batch (on a CPU with one intra-op thread: the work itself, without the
    waits for a core that other jobs on a shared machine cause)."""
    x = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0)).to(device)
    spread = torch.linspace(0, t_top, batch).round().long()
    cases = [("uniform [0, %d]" % t_top, spread), ("all t = %d" % t_top, torch.full((batch,), t_top)),
             ("all t = 0", torch.zeros(batch, dtype=torch.long))]
    stages = {per_t: DDPMRefine(checkpoint=checkpoint, t_range=(0, t_top), steps=steps, t_per_step=per_t)
              for per_t in (None, t_per_step)}
    rows = []
    for label, t in cases:
        params = {"t": t.to(device), "noise_seed": torch.arange(batch, device=device)}
        for stage in stages.values():  # warm-up
            stage.apply(x, params)
        wall: dict = {per_t: [] for per_t in stages}
        cpu: dict = {per_t: [] for per_t in stages}
        for _ in range(rounds):
            for per_t, stage in stages.items():
                sync(device)
                start, start_cpu = time.perf_counter(), time.process_time()
                stage.apply(x, params)
                sync(device)
                wall[per_t].append(time.perf_counter() - start)
                cpu[per_t].append(time.process_time() - start_cpu)
        for per_t in stages:
            seconds = statistics.median(wall[per_t])
            rows.append({"t": label, "sampler": f"DDIM K={steps}" + (f", t_per_step={per_t}" if per_t else ""),
                         "batch": batch, "size": size, "seconds": seconds, "images_per_s": batch / seconds,
                         "cpu_seconds": statistics.median(cpu[per_t])})
    return rows


def set_levers(denoiser, channels_last: bool, bf16: bool) -> None:
    """Set a loaded denoiser's memory format and bf16 autocast in place (the benchmark's levers)."""
    denoiser.channels_last = channels_last
    denoiser.autocast = bf16
    with torch.inference_mode():  # the weights may be inference tensors (a denoiser first loaded inside ``apply``)
        denoiser.model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def lever_rows(checkpoint: str, device: torch.device, size: int, batches: list[int], steps: int, rounds: int,
               compile_too: bool) -> tuple[dict[str, float], list[dict]]:
    """(best measured matmul FLOP/s per dtype, rows): images/s and achieved FLOP/s of DDIM K=``steps`` at t = 250
    for each lever (channels_last, bf16 autocast, torch.compile) and batch size, against dense matmuls (fp32 and
    bf16) measured in the same run before each setting."""
    n = 2048 if device.type == "cpu" else 8192
    rates = {"fp32": 0.0, "bf16": 0.0}  # the best of a measurement before each setting: on a shared machine
    settings = [("fp32", False, False, False), ("fp32 + channels_last", True, False, False),
                ("bf16 autocast", False, True, False), ("bf16 autocast + channels_last", True, True, False)]
    if compile_too:
        settings.append(("fp32 + torch.compile", False, False, True))
    rows = []
    for label, cl, bf16, comp in settings:
        for kind, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            rates[kind] = max(rates[kind], matmul_rate(device, dtype, n=n, reps=5))
        stage = DDPMRefine(checkpoint=checkpoint, t_range=(0, 1000), steps=steps, compile=comp)
        denoiser = stage.denoiser(device)
        set_levers(denoiser, cl, bf16)
        flops = forward_flops(denoiser, size) * min(steps, 250) if not comp else None
        for batch in batches:
            x = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(batch)).to(device)
            start = time.perf_counter()
            seconds = time_batch(stage, x, 250, rounds)
            flops = flops or forward_flops(denoiser, size) * min(steps, 250)
            rate = flops * batch / seconds
            rows.append({"setting": label, "batch": batch, "s_per_batch": seconds, "images_per_s": batch / seconds,
                         "GFLOPs": rate / 1e9, "matmul": "bf16" if bf16 else "fp32",
                         "first_call_s": time.perf_counter() - start - seconds * rounds})
    for row in rows:
        row["of_matmul"] = row["GFLOPs"] * 1e9 / rates[row["matmul"]]
    return rates, rows


def print_follow_t(rows: list[dict]) -> None:
    """A markdown table of ``follow_t_rows``: speed-up over the fixed-slot sampler (wall and CPU time) and the cost
    of each batch against the all-t = top batch with t_per_step."""
    top = rows[3]
    print("| t | sampler | batch | LQ size | s/batch | images/s | speed-up | CPU s/batch | speed-up (CPU) | "
          "cost vs all t = top (wall, CPU) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for fixed, per_t in zip(rows[::2], rows[1::2]):
        for r in (fixed, per_t):
            print(f"| {r['t']} | {r['sampler']} | {r['batch']} | {r['size']} | {r['seconds']:.3f} | "
                  f"{r['images_per_s']:.2f} | {fixed['seconds'] / r['seconds']:.2f}x | {r['cpu_seconds']:.3f} | "
                  f"{fixed['cpu_seconds'] / max(r['cpu_seconds'], 1e-9):.2f}x | {r['seconds'] / top['seconds']:.2%}, "
                  f"{r['cpu_seconds'] / top['cpu_seconds']:.2%} |", flush=True)


def parse_args() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--t", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads on CPU (0: torch's default)")
    parser.add_argument("--cases", nargs="*", default=None,
                        help="model:size:sampler triples, e.g. tiny:64:ddim10 release:128:ancestral (default: all)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the UNet")
    parser.add_argument("--follow-t", type=int, default=0, metavar="SIZE",
                        help="only the t-following table: t uniform over [0, --t] with and without t_per_step, "
                             "all t = 0 vs all t = --t, bundled UNet at LQ SIZE")
    parser.add_argument("--t-per-step", type=int, default=10)
    parser.add_argument("--levers", type=int, default=0, metavar="SIZE",
                        help="only the lever table (channels_last, bf16, torch.compile, batch size) at LQ SIZE")
    parser.add_argument("--lever-batches", type=int, nargs="*", default=[1, 4, 16])
    return parser.parse_args()


def print_levers(args: argparse.Namespace, device: torch.device) -> None:
    """Measure and print the lever table (``--levers SIZE``)."""
    rates, rows = lever_rows("bundled", device, args.levers, args.lever_batches, 10, args.rounds, args.compile)
    print(f"device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, load average "
          f"{Path('/proc/loadavg').read_text().split()[:3] if Path('/proc/loadavg').exists() else '?'}; "
          f"measured matmul: fp32 {rates['fp32'] / 1e9:.1f} GFLOP/s, bf16 {rates['bf16'] / 1e9:.1f} GFLOP/s")
    print("| setting | batch | s/batch | images/s | achieved GFLOP/s | of the matmul rate (dtype) | first call (s) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['setting']} | {r['batch']} | {r['s_per_batch']:.3f} | {r['images_per_s']:.2f} | "
              f"{r['GFLOPs']:.1f} | {r['of_matmul']:.0%} ({r['matmul']}) | {r['first_call_s']:.1f} |", flush=True)


def case_line(case: str, checkpoints: dict[str, str], args: argparse.Namespace, device: torch.device,
              peak: float | None) -> str:
    """Time one model:size:sampler case and return its markdown table row."""
    model, size, sampler = case.split(":")
    size = int(size)
    kind, steps = SAMPLERS[sampler]
    stage = DDPMRefine(checkpoint=checkpoints[model], t_range=(0, 1000), sampler=kind, steps=max(steps, 1),
                       compile=args.compile)
    denoiser = stage.denoiser(device)
    evals = min(steps, args.t) if kind == "ddim" else args.t
    flops = forward_flops(denoiser, size) * evals
    x = torch.rand(args.batch, 3, size, size, device=device)
    seconds = time_batch(stage, x, args.t, args.rounds)
    ips = args.batch / seconds
    rate = flops * ips
    params = sum(p.numel() for p in denoiser.model.parameters()) / 1e6
    line = (f"| {model} | {params:.1f}M | {size} | {sampler} | {evals} | {flops / 1e9:.1f} | {seconds:.2f} | "
            f"{ips:.2f} | {rate / 1e9:.1f} |")
    if peak:
        line += f" {rate / peak:.1%} |"
    return line


def print_cases(args: argparse.Namespace, device: torch.device) -> None:
    """Measure and print the main table: each model:size:sampler case (default: all of them)."""
    tmp = Path(__import__("tempfile").mkdtemp())
    checkpoints = {"tiny": "bundled", "release": release_checkpoint(tmp / "release")}
    cases = args.cases or [f"{m}:{s}:{k}" for m in checkpoints for s in (64, 128) for k in SAMPLERS]
    peak = bf16_matmul_rate(device) if device.type == "cuda" else None

    print(f"device: {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor() or 'cpu'}), "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {args.batch}, t = {args.t}")
    if peak:
        print(f"measured dense bf16 matmul rate: {peak / 1e12:.1f} TFLOP/s")
    print("| UNet | params | LQ size | sampler | evals/image | GFLOP/image | s/batch | images/s | achieved GFLOP/s |"
          + (" of bf16 matmul |" if peak else ""))
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if peak else ""))
    for case in cases:
        print(case_line(case, checkpoints, args, device, peak), flush=True)


def main() -> None:
    """Run the table the command line asks for: levers, t-following, or the model/size/sampler cases."""
    args = parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.levers:
        print_levers(args, device)
        return
    if args.follow_t:
        print(f"device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
              f"load average {open('/proc/loadavg').read().split()[:3] if Path('/proc/loadavg').exists() else '?'}")
        print_follow_t(follow_t_rows("bundled", device, args.follow_t, args.batch, args.rounds,
                                     t_per_step=args.t_per_step, t_top=args.t))
        return
    print_cases(args, device)


if __name__ == "__main__":
    main()
