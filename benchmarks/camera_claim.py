"""Issue 21 on City100 (or any camera's aligned pairs): do pairs from a fitted, refined camera model train
restorers that restore the camera's real LQ better?

One command per part; every part writes (and resumes) one JSON file, a row at a time, so a stopped run keeps
the rows it finished and a rerun computes only the missing ones.

    # the fixed scene split, the camera fit, its calibration and the DDPM on the train scenes' real L
    python benchmarks/prepare_city100.py /work/runs/city100
    degrade-stream fit-camera --pairs /work/runs/city100/train --out /work/runs/camera_fit
    degrade-stream calibrate --config /work/runs/camera_fit/camera.yaml --pairs /work/runs/city100/train \\
        --out /work/runs/camera_fit_calibrated.yaml --budget 120 --seed 0
    degrade-stream train-ddpm --config ddpm_local --init bundled --lq /work/runs/city100/train/lq \\
        --out /work/runs/ddpm_city100 --steps 1500

    # Part 1 + 2: content-matched realism of each chain's LQ of the test H against the test scenes' real L
    python benchmarks/camera_claim.py realism --pairs /work/runs/city100/test --seeds 0,1,2 \\
        --rows bicubic=benchmarks/chains/city100_bicubic.yaml,... --out /work/runs/claim/realism.json

    # Part 3: restorers trained to a plateau on each row's pairs, scored on the real test pairs
    python benchmarks/camera_claim.py restore --train /work/runs/city100/train --test /work/runs/city100/test \\
        --rows none,oracle,bicubic=benchmarks/chains/city100_bicubic.yaml,refined=pairs:DIR --seeds 0,1,2 \\
        --budget cpu --out /work/runs/claim/restore.json

Row sources: a chain YAML (its LQ of the train H, streamed per batch by PairStream, new per-sample seeds every
batch); ``oracle`` (the real train pairs); ``none`` (no restoration: L itself); ``pairs:DIR`` (pairs
synthesized beforehand into DIR/gt + DIR/lq for the train scenes, e.g. by ``degrade-stream synthesize`` with a
DDPM-refined chain, too slow to run per batch on a CPU). The held-out scenes that decide the plateau are the
same for every row (plateau_rows.split_held_out). Budgets: ``cpu``, ``cpu_quick`` and ``gpu`` (restore/plateau.py).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

from degrade_stream.atomic import write_json_atomic
from degrade_stream.core.config import load_chain
from degrade_stream.restore.compare import Settings, restore_scores
from degrade_stream.restore.pairs import PairSet, load_pairs
from degrade_stream.restore.plateau import BUDGETS
from degrade_stream.restore.plateau_rows import plateau_row, split_held_out


def parse_rows(text: str) -> list[tuple[str, str]]:
    """'name=source,oracle,none' -> [(name, source)]; a bare word is its own source."""
    rows = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, _, source = item.partition("=")
        rows.append((name, source or name))
    names = [n for n, _ in rows]
    if len(set(names)) != len(names):
        raise SystemExit(f"error: --rows names a row twice: {names}")
    return rows


def load_done(out: Path) -> dict[str, Any]:
    """The rows a previous run of the same command finished (resume)."""
    if not out.is_file():
        return {"rows": {}}
    return json.loads(out.read_text(encoding="utf-8"))


def machine() -> dict[str, Any]:
    return {"loadavg": Path("/proc/loadavg").read_text().split()[:3], "threads": torch.get_num_threads(),
            "cpus": os.cpu_count(), "time_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}


def synthetic_pairs(folder: str, train: PairSet) -> PairSet:
    """Pre-synthesized pairs of the train scenes: same names and H as ``train``."""
    pairs = load_pairs(folder, "pairs:")
    if pairs.names != train.names:
        raise SystemExit(f"error: pairs:{folder} holds {pairs.names[:3]}..., not the train scenes {train.names[:3]}...")
    return pairs


def restore(args: argparse.Namespace) -> int:
    """Part 3: restorers trained to a plateau per row and seed, scored on the real test pairs."""
    budget = BUDGETS[args.budget]
    seeds = [int(s) for s in args.seeds.split(",")]
    train_all, test = load_pairs(args.train, "--train"), load_pairs(args.test, "--test")
    train, held = split_held_out(train_all)
    out = Path(args.out)
    report = load_done(out)
    report.update({"train": str(args.train), "test": str(args.test), "seeds": seeds, "budget_name": args.budget,
                   "held_out_scenes": held.names, "eval_crop": args.eval_crop})
    for name, source in parse_rows(args.rows):
        if name in report["rows"]:
            print(f"{name}: done before, kept")
            continue
        started = time.perf_counter()
        before = machine()
        if source == "none":
            row = {"row": name, "psnr": {"mean": 0.0, "std": 0.0}, "ssim": {"mean": 0.0, "std": 0.0}}
            scores = restore_scores(None, test, Settings(eval_crop=args.eval_crop))
            row["psnr"]["mean"], row["ssim"]["mean"] = scores["psnr"], scores["ssim"]
        elif source == "oracle":
            row = plateau_row(name, None, train, held, test, budget, seeds, args.eval_crop, args.device, args.progress)
        elif source.startswith("pairs:"):
            synth_all = synthetic_pairs(source[len("pairs:"):], train_all)
            synth_train, synth_held = split_held_out(synth_all)
            row = plateau_row(name, None, synth_train, synth_held, test, budget, seeds, args.eval_crop, args.device,
                              args.progress)
        else:
            row = plateau_row(name, load_chain(source), train, held, test, budget, seeds, args.eval_crop,
                              args.device, args.progress)
        row.update({"source": source, "seconds": round(time.perf_counter() - started, 1), "machine_before": before,
                    "machine_after": machine()})
        report["rows"][name] = row
        write_json_atomic(out, report)
        steps = [r["steps"] for r in row.get("runs", [])]
        print(f"{name}: PSNR {row['psnr']['mean']:.3f} ± {row['psnr']['std']:.3f} dB, SSIM {row['ssim']['mean']:.4f} "
              f"± {row['ssim']['std']:.4f}, steps {steps}, {row['seconds']:.0f} s, load {row['machine_after']['loadavg']}",
              flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="part", required=True)
    r = sub.add_parser("restore", help="Part 3: restorers trained to a plateau on each row's pairs")
    r.add_argument("--train", required=True)
    r.add_argument("--test", required=True)
    r.add_argument("--rows", required=True)
    r.add_argument("--seeds", default="0,1,2")
    r.add_argument("--budget", choices=sorted(BUDGETS), default="cpu")
    r.add_argument("--eval-crop", type=int, default=0, help="centre crop of the test pairs (0: whole images)")
    r.add_argument("--device", default="cpu")
    r.add_argument("--out", required=True)
    r.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    return restore(args)


if __name__ == "__main__":
    sys.exit(main())
