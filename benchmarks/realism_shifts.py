"""Per-statistic shifts of synthesized LQ folders against real LQ: for each degradation statistic of
``degrade-stream evaluate`` (metrics/degradation_stats.py), the difference of the synthesized and the real
means in units of the real set's std, so a reader sees what a refiner changed (chroma noise, top spectral
band, blockiness, ...).

    python benchmarks/realism_shifts.py --real runs/lq_eval --synth handcrafted=runs/t0/lq refined=runs/t100/lq
"""
from __future__ import annotations

import argparse
import json
import sys

import torch

from degrade_stream.metrics.degradation_stats import FEATURE_NAMES
from degrade_stream.metrics.folder_report import synth_layout
from degrade_stream.metrics.image_patches import folder_patch_set
from degrade_stream.metrics.realism import compute_stats
from degrade_stream.metrics.units import RealUnits


def shifts(real: str, synth: str, seed: int = 0, per_image: int = 64) -> dict[str, float]:
    """(mean_synth - mean_real) / std_real for every statistic."""
    real_stats = compute_stats(folder_patch_set(real, 32, per_image, seed)).stats
    lq_dir, _ = synth_layout(synth, None)
    synth_stats = compute_stats(folder_patch_set(lq_dir, 32, per_image, seed)).stats
    delta = RealUnits.fit(real_stats)(synth_stats).mean(0)  # in the real set's units (metrics/units.py)
    return {name: round(float(v), 3) for name, v in zip(FEATURE_NAMES, delta)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", required=True)
    parser.add_argument("--synth", nargs="+", required=True, metavar="LABEL=DIR")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = {label: shifts(args.real, folder, args.seed) for label, folder in (s.split("=", 1) for s in args.synth)}
    labels = list(table)
    print("| statistic | " + " | ".join(labels) + " |")
    print("| --- |" + " --- |" * len(labels))
    for name in FEATURE_NAMES:
        print(f"| {name} | " + " | ".join(f"{table[label][name]:+.2f}" for label in labels) + " |")
    print(json.dumps(table), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
