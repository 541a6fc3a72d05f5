"""How far the DDPM refiner's output for a sample alone is from its output in a shuffled batch of 8.

The handcrafted chains are bit-identical alone and in any batch (tests/test_degrade_batch_independence.py);
the refiner's UNet convolutions and attention are float GEMMs whose summation order the backend picks per
batch shape, so there only a bound can be given. Run:
``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/refiner_batch_bound.py [--threads 1 2] [--rounds 4]``.
Prints, per thread count and HQ size, the max absolute difference (in 8-bit levels) and the fraction of
8-bit values that differ, over ``rounds`` shuffled batches of 8 (seeds differ per round), and the same
for the refiner's float output before its final rounding to 8 bit (``--unrounded``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import degrade_stream as ds  # noqa: E402
from degrade_stream.io import list_images, load_image  # noqa: E402


def crops(size: int) -> torch.Tensor:
    """8 crops of the test HQ images: top-left and bottom-right of each, size x size."""
    out = []
    for path in list_images(ROOT / "tests" / "data" / "hq"):
        img = load_image(path)
        out += [img[:, :size, :size], img[:, -size:, -size:]]
    return torch.stack(out[:8]).contiguous()


def measure(chain: ds.Chain, hq: torch.Tensor, rounds: int) -> tuple[float, float]:
    """(max |alone - in batch| in 8-bit levels, fraction of 8-bit values that differ) over ``rounds`` batches."""
    worst, differing, total = 0.0, 0, 0
    for r in range(rounds):
        seeds = torch.arange(8, dtype=torch.int64) * 7919 + 1000 * r
        perm = torch.randperm(8, generator=torch.Generator().manual_seed(r))
        batch = chain(hq[perm], seed=seeds[perm]).lq
        for j, i in enumerate(perm.tolist()):
            diff = (chain(hq[i:i + 1], seed=seeds[i:i + 1]).lq[0] - batch[j]).abs() * 255
            worst = max(worst, float(diff.max()))
            differing += int((diff > 0).sum())
            total += diff.numel()
    return worst, differing / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--sizes", type=int, nargs="*", default=[64, 128])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--config", default="realesrgan_ddpm")
    parser.add_argument("--unrounded", action="store_true", help="compare the refiner output before rounding")
    args = parser.parse_args()
    if args.unrounded:
        from degrade_stream.diffusion import refine

        refine.quantize8 = lambda x: x.clamp(0, 1)  # the float result, as the UNet left it
    chain = ds.load_chain(args.config)
    print(f"{args.config}: sample alone vs in a shuffled batch of 8, {args.rounds} batches per row, CPU, "
          f"torch {torch.__version__}{', before the final 8-bit rounding' if args.unrounded else ''}\n")
    print("| threads | HQ size | max abs diff (8-bit levels) | values that differ |")
    print("| ---: | ---: | ---: | ---: |")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for size in args.sizes:
            worst, fraction = measure(chain, crops(size), args.rounds)
            print(f"| {threads} | {size} | {worst:.3g} | {fraction:.2e} |", flush=True)


if __name__ == "__main__":
    main()
