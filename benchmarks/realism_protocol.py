"""The realism protocol of issue 20: every chain against one real LQ set, at matched scale, each row beside
the null row (real vs real, image-disjoint halves), with 95 % bootstrap intervals over images and one row
per synthesis seed.

    OMP_NUM_THREADS=1 python benchmarks/realism_protocol.py --real ../shared/data/lq_natural \
        --hq HQ_DIR --out runs/protocol --rows realesrgan realesrgan_ddpm realesrgan_ddpm@100 \
        --match-scale --synthesis-seeds 0,1

A row is a chain name or YAML, optionally ``@T`` for the ``ddpm_refine`` stages fixed at t = T (as ``sweep``
does). ``--match-scale`` downscales the HQ so the LQ short side matches the real median (never upscales;
cli/match_scale.py). Writes OUT/results.json and OUT/table.md (with the machine load before and after).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from degrade_stream.cli.fixed_step import config_at_step
from degrade_stream.cli.match_scale import matched_folder
from degrade_stream.cli.pair_writer import synthesize_pairs
from degrade_stream.core.config import chain_from_dict, resolve_config
from degrade_stream.metrics.folder_report import evaluate_folders, real_reference


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if os.path.exists("/proc/loadavg") else "?"


def row_config(spec: str) -> dict:
    """``name`` or ``name@T``: the chain config (with every ddpm_refine stage at t = T)."""
    name, _, t = spec.partition("@")
    config = resolve_config(name, "chains")
    return config_at_step(config, int(t)) if t else config


def _ci(row: dict, key: str, digits: int = 2) -> str:
    low, high = row[f"{key}_ci"]
    return f"{row[key]:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def table_line(label: str, seed: str, lq_short: str, row: dict, psnr: str) -> str:
    c = row.get("classifier")
    classifier = "" if not c else ("failed run (one class)" if c["failed"] else
                                   f"{c['accuracy']:.2f} [{c['accuracy_ci'][0]:.2f}, {c['accuracy_ci'][1]:.2f}]"
                                   f" / {c['auc']:.2f}")
    return (f"| {label} | {seed} | {lq_short} | {_ci(row, 'frechet_degradation')} | {_ci(row, 'kid_degradation', 3)} "
            f"| {classifier} | {psnr} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", required=True, help="real LQ folder")
    parser.add_argument("--hq", required=True, help="HQ folder the chains degrade")
    parser.add_argument("--out", required=True)
    parser.add_argument("--rows", nargs="+", required=True, metavar="CHAIN[@T]")
    parser.add_argument("--synthesis-seeds", default="0")
    parser.add_argument("--seed", type=int, default=0, help="patches, halves, classifier, bootstrap")
    parser.add_argument("--match-scale", action="store_true", help="downscale the HQ to the real LQ's scale")
    parser.add_argument("--patches-per-image", type=int, default=32)
    parser.add_argument("--steps", type=int, default=300, help="classifier steps")
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.synthesis_seeds.split(",")]
    load_before, started = _load(), time.perf_counter()
    reference = real_reference(Path(args.real), 32, args.patches_per_image, args.seed, args.steps, True, "cpu", False)
    results = {"real": args.real, "hq": args.hq, "match_scale": args.match_scale, "seed": args.seed,
               "patches_per_image": args.patches_per_image, "classifier_steps": args.steps,
               "real_sizes": reference.sizes, "null": reference.null, "rows": []}
    lines = ["| row | synthesis seed | LQ short side median (real " f"{reference.sizes['short_side_median']:.0f}) "
             "| Fréchet, degradation stats [95 % CI] | KID, degradation stats [CI] | classifier acc [CI] / AUC "
             "| PSNR(HQ, LQ) dB |", "| --- | --- | --- | --- | --- | --- | --- |",
             table_line(f"null: real half A ({reference.half_a.group_count}) vs half B "
                        f"({reference.half_b.group_count})", "", "", reference.null, "")]
    print(lines[-1], flush=True)
    for spec in args.rows:
        config = row_config(spec)
        scale = chain_from_dict(config).scale
        for seed in seeds:
            folder = out / spec.replace("/", "_").replace("@", "_t") / f"s{seed}"
            with matched_folder(args.hq, args.real if args.match_scale else None, scale) as hq:
                t0 = time.perf_counter()
                synthesize_pairs(config, hq, folder, seed=seed, batch_size=args.batch_size, device="cpu",
                                 progress=False)
                synth_seconds = time.perf_counter() - t0
            report = evaluate_folders(args.real, folder, seed=args.seed, steps=args.steps,
                                      patches_per_image=args.patches_per_image, reference=reference)
            row = report["realism"]["synth"]
            results["rows"].append({"row": spec, "synthesis_seed": seed, "synth_seconds": round(synth_seconds, 1),
                                    "sizes": report["sizes"]["synth"], "scale_warning": report["scale_warning"],
                                    "structure": report["structure"], "realism": row})
            lines.append(table_line(spec, str(seed), f"{report['sizes']['synth']['short_side_median']:.0f}", row,
                                    f"{report['structure']['psnr_mean']:.2f}"))
            print(lines[-1], flush=True)
            (out / "results.json").write_text(json.dumps(results, indent=1))
    lines.append(f"\nload average before {load_before}, after {_load()}; {time.perf_counter() - started:.0f} s; "
                 f"torch threads {torch.get_num_threads()}")
    (out / "table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(lines[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
