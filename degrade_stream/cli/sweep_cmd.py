"""``degrade-stream sweep``: the paper's Fig. 4 on your data: for each fixed t, synthesize and evaluate."""
from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from ..core.config import chain_from_dict, resolve_config
from ..metrics.folder_report import evaluate_folders
from .evaluate_cmd import check_patch_args
from .arg_checks import path_arg
from .fixed_step import config_at_step, parse_steps
from .output_folder import check_out_path
from ..atomic import write_text_atomic
from .pair_writer import resolve_device, synthesize_pairs
from .sweep_plot import plot_sweep

NAME = "sweep"
HELP = ("for each fixed diffusion step t: synthesize pairs, measure realism against real LQ and PSNR "
        "against HQ; writes sweep.csv and sweep.png")
COLUMNS = ("t", "pairs", "psnr_mean", "psnr_median", "ssim_mean", "fraction_below_24db", "frechet_all",
           "frechet_degradation", "classifier_accuracy")


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


def run(args: argparse.Namespace) -> int:
    check_patch_args(args)
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
    rows = []
    for t in steps:
        pairs_dir = out / f"t_{t}"
        summary = synthesize_pairs(configs[t], args.hq, pairs_dir, seed=args.seed, batch_size=args.batch_size,
                                   device=args.device, progress=not args.no_progress)
        report = evaluate_folders(args.real, pairs_dir, patch_size=args.patch_size,
                                  patches_per_image=args.patches_per_image, seed=args.seed, steps=args.steps,
                                  classifier=not args.no_classifier, device=device, progress=not args.no_progress)
        structure, realism = report["structure"], report["realism"]
        row = {"t": t, "pairs": structure["pairs"], "psnr_mean": structure["psnr_mean"],
               "psnr_median": structure["psnr_median"], "ssim_mean": structure["ssim_mean"],
               "fraction_below_24db": structure["fraction_below_24db"], "frechet_all": realism["frechet_all"],
               "frechet_degradation": realism["frechet_degradation"],
               "classifier_accuracy": realism["classifier"]["accuracy"] if "classifier" in realism else ""}
        rows.append(row)
        print(f"t={t:4d}: {summary.written + summary.present} pairs, PSNR {row['psnr_mean']:.2f} dB, "
              f"Fréchet {row['frechet_degradation']:.3f} (all stats {row['frechet_all']:.3f})"
              + (f", classifier {row['classifier_accuracy']:.3f}" if row["classifier_accuracy"] != "" else ""),
              flush=True)
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
