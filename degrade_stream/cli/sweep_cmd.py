"""``degrade-stream sweep``: the paper's Fig. 4 on your data: for each fixed t, synthesize and evaluate."""
from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from ..core.config import chain_from_dict, resolve_config
from ..metrics.folder_report import evaluate_folders, real_reference
from .evaluate_cmd import check_patch_args
from ..offline.pair_plan import check_batch_size
from .arg_checks import path_arg
from .match_scale import add_match_scale_argument, matched_folder
from .fixed_step import config_at_step, parse_steps
from .output_folder import check_out_path
from ..atomic import write_text_atomic
from .pair_writer import resolve_device, synthesize_pairs
from .sweep_plot import plot_sweep

COLUMNS = ("t", "pairs", "psnr_mean", "psnr_median", "ssim_mean", "fraction_below_24db",
           "frechet_degradation", "frechet_degradation_low", "frechet_degradation_high",
           "null_frechet_degradation", "null_frechet_degradation_low", "null_frechet_degradation_high",
           "frechet_all", "frechet_all_low", "frechet_all_high", "null_frechet_all",
           "kid_degradation", "kid_degradation_low", "kid_degradation_high", "null_kid_degradation",
           "classifier_accuracy", "classifier_accuracy_low", "classifier_accuracy_high", "classifier_auc",
           "classifier_failed", "null_classifier_accuracy", "null_classifier_accuracy_low",
           "null_classifier_accuracy_high", "lq_short_side_median", "real_short_side_median")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="NAME|YAML", type=path_arg,
                        help="a chain with a ddpm_refine stage, e.g. realesrgan_ddpm")
    parser.add_argument("--hq", required=True, metavar="DIR", type=path_arg, help="folder of HQ images")
    parser.add_argument("--real", required=True, metavar="DIR", type=path_arg, help="folder of real LQ images")
    parser.add_argument("--t", default="0,50,100,200", metavar="T1,T2,...",
                        help="diffusion steps to try (default 0,50,100,200)")
    parser.add_argument("--out", required=True, metavar="DIR", type=path_arg, help="output folder: t_<T>/ pairs, sweep.csv, sweep.png")
    parser.add_argument("--seed", type=int, default=0, help="seed of the pairs, patches and classifier (default 0)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per chain call (default 8)")
    parser.add_argument("--device", default="auto", help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--patch-size", type=int, default=32, help="realism patch size (default 32)")
    parser.add_argument("--patches-per-image", type=int, default=64, metavar="N", help="(default 64)")
    parser.add_argument("--steps", type=int, default=300, help="classifier training steps (default 300)")
    parser.add_argument("--no-classifier", action="store_true", help="skip the classifier two-sample test")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (the one line per t stays)")
    add_match_scale_argument(parser)


def sweep_row(t: int, report: dict) -> dict:
    """One CSV row: structure, the synthetic row and its null row (same real half A, real units), with intervals."""
    structure, realism = report["structure"], report["realism"]
    synth, null = realism["synth"], realism["null"]
    row = {"t": t, "pairs": structure["pairs"], "psnr_mean": structure["psnr_mean"],
           "psnr_median": structure["psnr_median"], "ssim_mean": structure["ssim_mean"],
           "fraction_below_24db": structure["fraction_below_24db"],
           "lq_short_side_median": report["sizes"]["synth"]["short_side_median"],
           "real_short_side_median": report["sizes"]["real"]["short_side_median"]}
    for key in ("frechet_degradation", "frechet_all", "kid_degradation"):
        row[key], (row[f"{key}_low"], row[f"{key}_high"]) = synth[key], synth[f"{key}_ci"]
        row[f"null_{key}"], (row[f"null_{key}_low"], row[f"null_{key}_high"]) = null[key], null[f"{key}_ci"]
    for prefix, source in (("", synth), ("null_", null)):
        c = source.get("classifier")
        row[f"{prefix}classifier_accuracy"] = c["accuracy"] if c else ""
        row[f"{prefix}classifier_accuracy_low"], row[f"{prefix}classifier_accuracy_high"] = \
            c["accuracy_ci"] if c else ("", "")
    c = synth.get("classifier")
    row["classifier_auc"] = c["auc"] if c else ""
    row["classifier_failed"] = c["failed"] if c else ""
    return {k: row[k] for k in COLUMNS}


def _sweep(args: argparse.Namespace, configs: dict, steps: list[int], out: Path, device, hq_dir: Path) -> list[dict]:
    """Synthesize and measure every t against one real reference (units, halves, null row)."""
    reference = real_reference(Path(args.real), args.patch_size, args.patches_per_image, args.seed, args.steps,
                               not args.no_classifier, device, not args.no_progress)
    rows = []
    for t in steps:
        pairs_dir = out / f"t_{t}"
        summary = synthesize_pairs(configs[t], hq_dir, pairs_dir, seed=args.seed, batch_size=args.batch_size,
                                   device=args.device, progress=not args.no_progress)
        report = evaluate_folders(args.real, pairs_dir, patch_size=args.patch_size,
                                  patches_per_image=args.patches_per_image, seed=args.seed, steps=args.steps,
                                  classifier=not args.no_classifier, device=device, progress=not args.no_progress,
                                  reference=reference)
        row = sweep_row(t, report)
        rows.append(row)
        print(f"t={t:4d}: {summary.written + summary.present} pairs, PSNR {row['psnr_mean']:.2f} dB, "
              f"Fréchet {row['frechet_degradation']:.3f} [{row['frechet_degradation_low']:.3f}, "
              f"{row['frechet_degradation_high']:.3f}] (null {row['null_frechet_degradation']:.3f} "
              f"[{row['null_frechet_degradation_low']:.3f}, {row['null_frechet_degradation_high']:.3f}])"
              + (f", classifier {row['classifier_accuracy']:.3f} (null {row['null_classifier_accuracy']:.3f})"
                 + (" FAILED RUN" if row["classifier_failed"] else "") if row["classifier_accuracy"] != "" else ""),
              flush=True)
        if report.get("scale_warning"):
            print(f"WARNING: {report['scale_warning']}", flush=True)
    return rows


def run(args: argparse.Namespace) -> int:
    check_patch_args(args)
    check_batch_size(args.batch_size)
    steps = parse_steps(args.t)
    config = resolve_config(args.config, "chains")
    configs = {t: config_at_step(config, t) for t in steps}
    for t in steps:  # every t against the model's steps, and every other key, before any work
        chain_from_dict(configs[t])
    out = Path(args.out)
    check_out_path(out)
    if not Path(args.real).is_dir():
        raise FileNotFoundError(f"--real: not a folder: {args.real}")
    device = resolve_device(args.device)
    out.mkdir(parents=True, exist_ok=True)
    with matched_folder(args.hq, args.match_scale, chain_from_dict(config).scale) as hq_dir:
        rows = _sweep(args, configs, steps, out, device, hq_dir)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    write_text_atomic(out / "sweep.csv", text.getvalue())
    print(f"wrote {out / 'sweep.csv'}")
    if plot_sweep(rows, out / "sweep.png"):
        print(f"wrote {out / 'sweep.png'}")
    else:
        print("sweep.png not drawn: matplotlib is not installed (pip install 'degrade_stream[plot]')")
    return 0
