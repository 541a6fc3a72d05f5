"""The realism ablation of issue 11: train one DDPM per recipe row with an equal step budget, then
measure each like ``degrade-stream sweep`` does (synthesize_pairs + evaluate_folders, the functions
behind the command) at fixed t and over the shipped chain's t range, with the evaluation repeated
over several seeds (patch positions, halves and classifier). Every row carries its null row (real vs
real, image-disjoint halves) and 95 % bootstrap intervals over images (metrics/realism.py).

    OMP_NUM_THREADS=1 python benchmarks/realism_ablation.py --rows benchmarks/realism_rows/r1_*.yaml \
        --lq runs/lq_train.txt --real runs/lq_eval --hq ../shared/data/hq_natural --out runs/ablation

Extra training sources are given per row with ``--extra-lq ROW=PATH`` (e.g. the City100 L images).
Results: ``OUT/results.csv`` (one line per row, t and seed) and ``OUT/summary.md`` (mean +- spread).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

T_VALUES = (0, 25, 50, 100, 150, 250)
T_PER_STEP = 10  # DDIM steps per unit of t: a sample at t takes ceil(t / 10) steps (25 at t = 250)


def chain_at(checkpoint: str, t: int | None) -> dict:
    """realesrgan x4, then ddpm_refine at a fixed t (or over [0, 250] when t is None). At t = 0 the
    refiner is the identity, so the chain is realesrgan alone (the same draws: each stage has its own stream)."""
    if t == 0:
        return {"name": "ablation_t0", "stages": [{"type": "realesrgan", "scale": 4}]}
    if t is None:
        refine = {"type": "ddpm_refine", "checkpoint": checkpoint, "t_range": [0, 250], "sampler": "ddim",
                  "steps": 25}
    else:
        refine = {"type": "ddpm_refine", "checkpoint": checkpoint, "t_range": [t, t], "sampler": "ddim",
                  "steps": max(1, math.ceil(t / T_PER_STEP))}
    return {"name": f"ablation_t{t}", "stages": [{"type": "realesrgan", "scale": 4}, refine]}


def train_row(recipe: Path, sources: list[str], model_dir: Path, steps: int) -> float:
    """Train (or resume) one row to ``steps`` with the project's CLI; returns wall seconds."""
    done = model_dir / f"step_{steps:08d}"
    if done.is_dir():
        return 0.0
    resume = any(model_dir.glob("step_*"))
    cmd = [sys.executable, "-m", "degrade_stream.cli.main", "train-ddpm", "--lq", *sources, "--out", str(model_dir),
           "--steps", str(steps), "--no-progress"]
    cmd += ["--resume"] if resume else ["--config", str(recipe)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def measure(chain: dict, hq: str, real: str, pairs: Path, seeds: list[int]) -> list[dict]:
    from degrade_stream.cli.pair_writer import synthesize_pairs
    from degrade_stream.metrics.folder_report import evaluate_folders

    started = time.perf_counter()
    synthesize_pairs(chain, hq, pairs, seed=0, batch_size=8, device="cpu", progress=False)
    synth_seconds = time.perf_counter() - started
    rows = []
    for seed in seeds:
        report = evaluate_folders(real, pairs, seed=seed, device="cpu")
        s, r, n = report["structure"], report["realism"]["synth"], report["realism"]["null"]
        rows.append({"seed": seed, "psnr": s["psnr_mean"], "below24": s["fraction_below_24db"],
                     "frechet_all": r["frechet_all"], "frechet_deg": r["frechet_degradation"],
                     "frechet_deg_ci": r["frechet_degradation_ci"], "null_frechet_deg": n["frechet_degradation"],
                     "null_frechet_deg_ci": n["frechet_degradation_ci"], "kid_deg": r["kid_degradation"],
                     "classifier": r["classifier"]["accuracy"], "classifier_ci": r["classifier"]["accuracy_ci"],
                     "classifier_failed": r["classifier"]["failed"], "null_classifier": n["classifier"]["accuracy"],
                     "lq_short_side": report["sizes"]["synth"]["short_side_median"],
                     "synth_seconds": round(synth_seconds, 1)})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", required=True, help="recipe YAML files, one per ablation row")
    parser.add_argument("--lq", nargs="+", required=True, help="training sources (train split)")
    parser.add_argument("--extra-lq", action="append", default=[], metavar="ROW=PATH",
                        help="an extra training source for the row whose file stem is ROW")
    parser.add_argument("--real", required=True, help="held-out real LQ folder (eval split)")
    parser.add_argument("--hq", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--t", default=",".join(map(str, T_VALUES)))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    t_values = [int(t) for t in args.t.split(",")]
    extra: dict[str, list[str]] = {}
    for item in args.extra_lq:
        row, path = item.split("=", 1)
        extra.setdefault(row, []).append(path)
    for recipe in map(Path, args.rows):
        row = recipe.stem
        model_dir = out / row / "model"
        seconds = train_row(recipe, args.lq + extra.get(row, []), model_dir, args.steps)
        checkpoint = str(model_dir / f"step_{args.steps:08d}")
        for t in [*t_values, None]:
            tag = "range" if t is None else f"t{t}"
            result_file = out / row / f"{tag}.json"
            if result_file.is_file():
                continue
            pairs = out / "t0_pairs" if t == 0 else out / row / f"pairs_{tag}"  # t = 0 is the same for every row
            rows = measure(chain_at(checkpoint, t), args.hq, args.real, pairs, seeds)
            result = {"row": row, "t": tag, "train_steps": args.steps, "train_seconds": round(seconds, 1),
                      "runs": rows}
            result_file.write_text(json.dumps(result, indent=1))
            print(json.dumps({"row": row, "t": tag, **{k: round(statistics.mean(r[k] for r in rows), 4)
                                                        for k in ("psnr", "frechet_all", "frechet_deg",
                                                                  "classifier")}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
