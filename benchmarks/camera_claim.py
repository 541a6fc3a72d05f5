"""Issue 21 on City100 (or any camera's aligned pairs): do pairs from a fitted, refined camera model train
restorers that restore the camera's real LQ better?

One command per part; every part writes (and resumes) one JSON file, a row at a time, so a stopped run keeps
the rows it finished and a rerun computes only the missing ones.

    # the fixed scene split, the camera fit, its calibration and the DDPM on the train scenes' real L
    python benchmarks/prepare_city100.py /work/runs/city100
    degrade-stream fit-camera --pairs /work/runs/city100/train --out /work/runs/camera_fit
    degrade-stream calibrate --config /work/runs/camera_fit/camera.yaml --pairs /work/runs/city100/train \\
        --out /work/runs/camera_fit_calibrated.yaml --budget 120 --seed 0
    degrade-stream calibrate --config /work/runs/camera_fit/camera.yaml --pairs /work/runs/city100/train \
        --params "stages[0].noise_gain_range" --out /work/runs/camera_fit_calibrated_noise.yaml --budget 60 --seed 0
    degrade-stream train-ddpm --config ddpm_local --init bundled --lq /work/runs/city100/train/lq \\
        --out /work/runs/ddpm_city100 --steps 1500
    # the same fit-camera command after the detail residual landed (models with detail, detail_chroma,
    # detail_spatial; /work/runs/camera_fit above is the model from before it), and its calibration
    degrade-stream fit-camera --pairs /work/runs/city100/train --out /work/runs/camera_fit_detail2
    degrade-stream calibrate --config /work/runs/camera_fit_detail2/camera.yaml --pairs /work/runs/city100/train \\
        --params "stages[0].noise_gain_range,stages[0].detail_gain_range" \\
        --out /work/runs/camera_fit_detail2_calibrated.yaml --budget 60 --seed 0

    # why a restorer trained on a chain's pairs does or does not transfer to the real L: per frequency band, the
    # energy of L and of chain(H) relative to H's, and each one's coherence with H
    python benchmarks/camera_claim.py spectrum --pairs /work/runs/city100/test --config CHAIN.yaml

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
from degrade_stream.core.config import load_chain, read_yaml
from degrade_stream.io import save_image
from degrade_stream.restore.compare import Settings, centre_crop, restore_scores
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


def refined_chain(base: str, checkpoint: str, t: int, t_per_step: int) -> dict[str, Any]:
    """``base``'s stages, then DDPM refinement at a fixed t (DDIM, ceil(t / t_per_step) steps)."""
    data = read_yaml(Path(base))
    stages = [dict(stage) for stage in data["stages"]]
    stages.append({"type": "ddpm_refine", "checkpoint": checkpoint, "t_range": [t, t], "sampler": "ddim",
                   "steps": 25, "t_per_step": t_per_step})
    return {"name": f"{data.get('name', 'chain')}_refined_t{t}", "stages": stages}


def realism(args: argparse.Namespace) -> int:
    """Parts 1 and 2: content-matched measures (metrics/paired.py) of each row's LQ of the H of ``--pairs``
    against the real L of the same scenes, one row per synthesis seed."""
    from degrade_stream.metrics.pairs_report import evaluate_pairs

    seeds = [int(s) for s in args.seeds.split(",")]
    rows: list[tuple[str, Any]] = list(parse_rows(args.rows)) if args.rows else []
    if args.refine:
        rows += [(f"{args.refine_name}_t{t}", refined_chain(args.refine_base, args.refine, t, args.t_per_step))
                 for t in (int(v) for v in args.t_values.split(","))]
    out = Path(args.out)
    report = load_done(out)
    report.update({"pairs": str(args.pairs), "seeds": seeds})
    for name, config in rows:
        if name in report["rows"]:
            print(f"{name}: done before, kept")
            continue
        started, before = time.perf_counter(), machine()
        row = evaluate_pairs(args.pairs, config, seeds, device=args.device)
        row.update({"chain": config, "seconds": round(time.perf_counter() - started, 1), "machine_before": before,
                    "machine_after": machine()})
        report["rows"][name] = row
        write_json_atomic(out, report)
        print(summary_line(name, row), flush=True)
    return 0


def summary_line(name: str, row: dict[str, Any]) -> str:
    """Mean over seeds [min, max] of the paired distance, classifier accuracy and pair PSNR, with seed 0's CIs."""
    over, first = row["over_seeds"] or {}, row["rows"][0]

    def cell(key: str, ci: list | None) -> str:
        o = over.get(key) or {"mean": first[key] if key in first else first["classifier"]["accuracy"]}
        spread = f" [{o['min']:.3f}, {o['max']:.3f}]" if "min" in o else ""
        return f"{o['mean']:.3f}{spread} (seed 0 CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else f"{o['mean']:.3f}{spread}"

    return (f"{name}: paired Fréchet (degradation) {cell('frechet_degradation', first.get('frechet_degradation_ci'))}; "
            f"classifier {cell('classifier_accuracy', first['classifier'].get('accuracy_ci'))}; "
            f"pair PSNR {cell('pair_psnr', first.get('pair_psnr_ci'))}; {row['seconds']:.0f} s, "
            f"load {row['machine_after']['loadavg']}")


def realism_table(report: dict[str, Any]) -> list[str]:
    """Markdown rows: mean over seeds [min, max], and seed 0's bootstrap interval, per measure."""
    lines = ["| LQ | paired Fréchet (degradation) | content-matched classifier | PSNR to real L | s |",
             "| --- | --- | --- | --- | --- |"]
    for name, row in report["rows"].items():
        over, first = row["over_seeds"], row["rows"][0]
        cells = []
        for key, ci in (("frechet_degradation", first.get("frechet_degradation_ci")),
                        ("classifier_accuracy", first["classifier"].get("accuracy_ci")),
                        ("pair_psnr", first.get("pair_psnr_ci"))):
            o = over[key]
            cells.append(f"{o['mean']:.3f} [{o['min']:.3f}, {o['max']:.3f}] (CI {ci[0]:.3f}-{ci[1]:.3f})")
        lines.append(f"| {name} | {' | '.join(cells)} | {row['seconds']:.0f} |")
    return lines


def restore_table(report: dict[str, Any]) -> list[str]:
    """Markdown rows: PSNR/SSIM mean ± std over seeds, steps to the plateau, wall time."""
    lines = ["| pairs | real L -> H PSNR | SSIM | steps (best) per seed | s |", "| --- | --- | --- | --- | --- |"]
    for name, row in report["rows"].items():
        runs = row.get("runs", [])
        steps = ", ".join(f"{r['steps']} ({r['best_step']})" for r in runs) or "-"
        lines.append(f"| {name} | {row['psnr']['mean']:.3f} ± {row['psnr']['std']:.3f} | {row['ssim']['mean']:.4f} ± "
                     f"{row['ssim']['std']:.4f} | {steps} | {row['seconds']:.0f} |")
    return lines


def table(args: argparse.Namespace) -> int:
    """Print the Markdown table of a realism or restore JSON."""
    report = json.loads(Path(args.report).read_text(encoding="utf-8"))
    first = next(iter(report["rows"].values()))
    print("\n".join(realism_table(report) if "over_seeds" in first else restore_table(report)))
    return 0


def sharpen_probe(args: argparse.Namespace) -> int:
    """PSNR against H of the real L and of chain(H), each after an unsharp mask (Gaussian sigma 1, 7 px) of growing
    amount: does sharpening bring each closer to H? (A restorer learns to undo what its pairs' LQ lost.)"""
    import statistics

    import kornia

    pairs, chain = load_pairs(args.pairs, "--pairs"), load_chain(args.config)

    def usm(x: torch.Tensor, amount: float) -> torch.Tensor:
        return (x + amount * (x - kornia.filters.gaussian_blur2d(x[None], (7, 7), (1.0, 1.0))[0])).clamp(0, 1)

    def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(kornia.metrics.psnr(a[None], b[None], 1.0))

    with torch.no_grad():
        synth = [chain(h[None], seed=i).lq[0] for i, h in enumerate(pairs.hq)]
    for amount in (0.0, 0.5, 1.0):
        real = statistics.mean(psnr(usm(l, amount), h) for h, l in zip(pairs.hq, pairs.lq))
        fake = statistics.mean(psnr(usm(s, amount), h) for h, s in zip(pairs.hq, synth))
        print(f"unsharp amount {amount}: PSNR(real L, H) {real:.2f} dB, PSNR(chain(H), H) {fake:.2f} dB")
    return 0


BANDS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def spectrum(args: argparse.Namespace) -> int:
    """Per radial band (cycles/px) of the luma, summed over the pairs: the energy of real L and of chain(H)
    relative to H's, and the magnitude-squared coherence of each with H, |S_HX|^2 / (S_HH S_XX). A restorer's
    best linear part is the Wiener gain S_HX / S_XX: where chain(H) is coherent with H but real L is not, the
    chain's pairs teach amplifying a band that, in real L, holds detail unrelated to H."""
    from degrade_stream.fit.registration import luma

    pairs, chain = load_pairs(args.pairs, "--pairs"), load_chain(args.config)
    sums = {key: torch.zeros(len(BANDS) - 1, dtype=torch.float64) for key in ("hh", "ll", "ss", "hl", "hs")}
    for i, (hq, lq) in enumerate(zip(pairs.hq, pairs.lq)):
        with torch.no_grad():
            synth = chain(hq[None], seed=torch.tensor([args.seed * 1000 + i])).lq[0]
        h, w = hq.shape[-2:]
        window = torch.outer(torch.hann_window(h, dtype=torch.float64), torch.hann_window(w, dtype=torch.float64))
        fh, fl, fs = [torch.fft.fft2((luma(x).double() - luma(x).double().mean()) * window) for x in (hq, lq, synth)]
        radius = (torch.fft.fftfreq(h, dtype=torch.float64)[:, None] ** 2
                  + torch.fft.fftfreq(w, dtype=torch.float64)[None] ** 2).sqrt()
        for j in range(len(BANDS) - 1):
            m = (radius >= BANDS[j]) & (radius < BANDS[j + 1])
            sums["hh"][j] += fh[m].abs().square().sum()
            sums["ll"][j] += fl[m].abs().square().sum()
            sums["ss"][j] += fs[m].abs().square().sum()
            sums["hl"][j] += (fl[m] * fh[m].conj()).real.sum()
            sums["hs"][j] += (fs[m] * fh[m].conj()).real.sum()
    print("| band (cycles/px) | L energy / H's | chain(H) energy / H's | coherence (H, L) | coherence (H, chain(H)) |")
    print("| --- | --- | --- | --- | --- |")
    for j in range(len(BANDS) - 1):
        hh, ll, ss = sums["hh"][j], sums["ll"][j], sums["ss"][j]
        coherence_l, coherence_s = sums["hl"][j] ** 2 / hh / ll, sums["hs"][j] ** 2 / hh / ss
        print(f"| {BANDS[j]:.2f}-{BANDS[j + 1]:.2f} | {ll / hh:.3f} | {ss / hh:.3f} | {coherence_l:.3f} | "
              f"{coherence_s:.3f} |")
    return 0


def crop_pairs(args: argparse.Namespace) -> int:
    """Centre crops of every pair (same window on H and L) into a new pair folder (for the costly DDPM rows)."""
    pairs = load_pairs(args.pairs, "--pairs")
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"error: {out} already exists")
    for sub in ("gt", "lq"):
        (out / sub).mkdir(parents=True)
    for name, hq, lq in zip(pairs.names, pairs.hq, pairs.lq):
        save_image(centre_crop(hq, args.size), out / "gt" / name)
        save_image(centre_crop(lq, args.size), out / "lq" / name)
    print(f"{len(pairs.names)} pairs cropped to {args.size} px in {out}")
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
    e = sub.add_parser("realism", help="Parts 1-2: content-matched realism of each row on real pairs")
    e.add_argument("--pairs", required=True)
    e.add_argument("--rows", default="", help="NAME=CHAIN,... (chain YAML files or shipped names)")
    e.add_argument("--refine", metavar="CKPT", help="add rows: --refine-base then ddpm_refine with this model")
    e.add_argument("--refine-base", metavar="CHAIN")
    e.add_argument("--refine-name", default="refined")
    e.add_argument("--t-values", default="25,50,100")
    e.add_argument("--t-per-step", type=int, default=25)
    e.add_argument("--seeds", default="0,1,2")
    e.add_argument("--device", default="cpu")
    e.add_argument("--out", required=True)
    c = sub.add_parser("crop", help="centre crops of a pair folder (same window on H and L)")
    c.add_argument("--pairs", required=True)
    c.add_argument("--size", type=int, default=256)
    c.add_argument("--out", required=True)
    t = sub.add_parser("table", help="the Markdown table of a realism or restore JSON")
    t.add_argument("report")
    u = sub.add_parser("sharpen-probe", help="does an unsharp mask bring real L / chain(H) closer to H?")
    u.add_argument("--pairs", required=True)
    u.add_argument("--config", required=True)
    f = sub.add_parser("spectrum", help="per band: energy of L and chain(H) vs H's, and their coherence with H")
    f.add_argument("--pairs", required=True)
    f.add_argument("--config", required=True)
    f.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    return {"restore": restore, "realism": realism, "crop": crop_pairs, "table": table,
            "sharpen-probe": sharpen_probe, "spectrum": spectrum}[args.part](args)


if __name__ == "__main__":
    sys.exit(main())
