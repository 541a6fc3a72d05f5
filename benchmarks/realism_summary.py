"""Tables of the realism ablation (benchmarks/realism_ablation.py): every row, every t, mean and spread
(half the max - min range) over the evaluation seeds, beside the null row (real vs real); writes a CSV
with every run and prints markdown.

    python benchmarks/realism_summary.py runs/ablation --csv benchmarks/realism_ablation.csv
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

METRICS = ("frechet_deg", "null_frechet_deg", "frechet_all", "kid_deg", "classifier", "null_classifier", "psnr",
           "below24")
ORDER = ["t0", "t25", "t50", "t100", "t150", "t250", "range"]


def load(folder: Path) -> list[dict]:
    results = []
    for path in sorted(folder.glob("*/*.json")):
        data = json.loads(path.read_text())
        if "runs" in data:
            results.append(data)
    return results


def cell(runs: list[dict], key: str, digits: int = 2) -> str:
    values = [r[key] for r in runs]
    mean = statistics.mean(values)
    spread = (max(values) - min(values)) / 2
    if key == "below24":
        return f"{100 * mean:.0f} %"
    return f"{mean:.{digits}f} ± {spread:.{digits}f}" if spread > 0 else f"{mean:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--csv")
    args = parser.parse_args()
    results = load(Path(args.folder))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["row", "t", "train_steps", "seed", *METRICS])
            for res in results:
                for run in res["runs"]:
                    writer.writerow([res["row"], res["t"], res["train_steps"], run["seed"],
                                     *(f"{run[m]:.5g}" for m in METRICS)])
    print("| row | t | Fréchet, degradation stats | null (real vs real) | classifier accuracy | null classifier "
          "| PSNR(HQ, LQ) dB | below 24 dB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    by_row: dict[str, dict[str, dict]] = {}
    for res in results:
        by_row.setdefault(res["row"], {})[res["t"]] = res
    for row in sorted(by_row):
        for t in ORDER:
            if t in by_row[row]:
                runs = by_row[row][t]["runs"]
                label = "U[0, 250]" if t == "range" else t[1:]
                print(f"| {row} | {label} | {cell(runs, 'frechet_deg')} | {cell(runs, 'null_frechet_deg')} | "
                      f"{cell(runs, 'classifier', 3)} | {cell(runs, 'null_classifier', 3)} | {cell(runs, 'psnr')} "
                      f"| {cell(runs, 'below24')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
