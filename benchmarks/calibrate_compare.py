"""Issue 12 (b): default vs calibrated chain on held-out real LQ: synthesize from HQ, evaluate, 3 seeds.

    python benchmarks/calibrate_compare.py --hq HQ_DIR --real EVAL_DIR --out OUT_DIR \
        --chains realesrgan,configs/chains/realesrgan_natural_calibrated.yaml [--seeds 0,1,2]

For each chain and seed: ``degrade-stream synthesize`` (seed s) into OUT/<chain>/s<s>, then ``degrade-stream
evaluate --real EVAL --synth ... --seed s``; prints and writes OUT/summary.md: Fréchet distances and classifier
accuracy as mean ± std over the seeds (with the machine load before and after).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path


def _run(args: list[str]) -> None:
    """A degrade-stream command; exit 1 (synthesize skipped some unreadable files) is accepted."""
    done = subprocess.run([sys.executable, "-m", "degrade_stream.cli.main", *args], stdout=subprocess.DEVNULL)
    if done.returncode not in (0, 1):
        raise SystemExit(f"degrade-stream {args[0]} failed with exit status {done.returncode}")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if os.path.exists("/proc/loadavg") else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hq", required=True)
    parser.add_argument("--real", required=True, help="held-out real LQ folder")
    parser.add_argument("--out", required=True)
    parser.add_argument("--chains", required=True, help="comma-separated chain names or YAML paths")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    out = Path(args.out)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    load_before = _load()
    for chain in args.chains.split(","):
        label = Path(chain).stem
        values: dict[str, list[float]] = {"frechet_degradation": [], "frechet_all": [], "classifier": []}
        for seed in seeds:
            pairs = out / label / f"s{seed}"
            _run(["synthesize", "--config", chain, "--hq", args.hq, "--out", str(pairs), "--seed", str(seed),
                  "--no-progress", "--device", "cpu"])
            report = pairs / "evaluate.json"
            _run(["evaluate", "--real", args.real, "--synth", str(pairs), "--seed", str(seed), "--out", str(report),
                  "--no-progress", "--device", "cpu"])
            realism = json.loads(report.read_text())["realism"]
            values["frechet_degradation"].append(realism["frechet_degradation"])
            values["frechet_all"].append(realism["frechet_all"])
            values["classifier"].append(realism["classifier"]["accuracy"])
        rows.append((label, {k: (statistics.mean(v), statistics.stdev(v) if len(v) > 1 else 0.0)
                             for k, v in values.items()}))
    lines = [f"| chain | Fréchet (degradation) | Fréchet (all) | classifier accuracy |", "| --- | --- | --- | --- |"]
    for label, stats in rows:
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in stats.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(f"\nseeds {seeds}; load average before {load_before}, after {_load()}")
    text = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
