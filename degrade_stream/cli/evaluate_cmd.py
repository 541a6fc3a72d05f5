"""``degrade-stream evaluate``: structure and realism of synthesized LQ; prints a table, writes JSON."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..metrics.folder_report import evaluate_folders
from ..atomic import write_json_atomic
from ..shards.reader import pairs_folder
from .arg_checks import check_input_file, check_output_file, path_arg
from .pair_writer import resolve_device
from .report_table import format_report

NAME = "evaluate"
HELP = ("compare synthesized LQ with real LQ (Fréchet distance of degradation statistics, classifier "
        "two-sample test, optional FID) and with its HQ (PSNR/SSIM)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", required=True, metavar="DIR", type=path_arg, help="folder of real low-quality images")
    parser.add_argument("--synth", required=True, metavar="DIR", type=path_arg,
                        help="folder of synthesized LQ images, or a 'synthesize' output folder (uses its lq/)")
    parser.add_argument("--hq", metavar="DIR", type=path_arg, help="HQ images matched to the LQ by name, for PSNR/SSIM "
                                                    "(default: SYNTH/gt of a 'synthesize' output folder)")
    parser.add_argument("--out", metavar="FILE", type=path_arg, help="write the report as JSON here")
    parser.add_argument("--seed", type=int, default=0, help="seed of patch positions and the classifier (default 0)")
    parser.add_argument("--patch-size", type=int, default=32, help="square patch size, a multiple of 8 (default 32)")
    parser.add_argument("--patches-per-image", type=int, default=64, metavar="N",
                        help="at most N patches from each image (default 64)")
    parser.add_argument("--steps", type=int, default=300, help="classifier training steps (batches of 32; default 300)")
    parser.add_argument("--no-classifier", action="store_true", help="skip the classifier two-sample test")
    parser.add_argument("--inception-weights", metavar="FILE", type=path_arg,
                        help="local pytorch-fid Inception weights (pt_inception-2015-12-05-*.pth): also report FID")
    parser.add_argument("--device", default="auto", help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def check_patch_args(args: argparse.Namespace) -> None:
    if args.patch_size < 16 or args.patch_size % 8:
        raise ValueError(f"--patch-size must be a multiple of 8 and >= 16, got {args.patch_size}")
    if args.patches_per_image < 1:
        raise ValueError(f"--patches-per-image must be >= 1, got {args.patches_per_image}")
    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")


def run(args: argparse.Namespace) -> int:
    check_patch_args(args)
    if args.out:
        check_output_file(Path(args.out), "--out")
    if args.inception_weights:
        check_input_file(Path(args.inception_weights), "--inception-weights")
    with pairs_folder(args.synth) as synth:  # a WebDataset shard folder is read as a pairs folder
        report = evaluate_folders(args.real, synth, args.hq, patch_size=args.patch_size,
                                  patches_per_image=args.patches_per_image, seed=args.seed, steps=args.steps,
                                  classifier=not args.no_classifier, inception_weights=args.inception_weights,
                                  device=resolve_device(args.device), progress=not args.no_progress)
    print(format_report(report))
    if args.out:
        print(f"report written to {write_json_atomic(args.out, report)}")
    return 0
