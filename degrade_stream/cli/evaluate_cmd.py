"""``degrade-stream evaluate``: structure and realism of synthesized LQ; prints a table, writes JSON."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..metrics.folder_report import evaluate_folders
from ..metrics.pairs_report import evaluate_pairs
from ..atomic import write_json_atomic
from ..shards.reader import pairs_folder
from .arg_checks import check_input_file, check_output_file, path_arg
from .pair_writer import resolve_device
from .report_table import format_pairs_report, format_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real", metavar="DIR", type=path_arg, help="folder of real low-quality images")
    parser.add_argument("--synth", metavar="DIR", type=path_arg,
                        help="folder of synthesized LQ images, or a 'synthesize' output folder (uses its lq/)")
    parser.add_argument("--hq", metavar="DIR", type=path_arg, help="HQ images matched to the LQ by name, for PSNR/SSIM "
                                                    "(default: SYNTH/gt of a 'synthesize' output folder)")
    parser.add_argument("--pairs", metavar="DIR", type=path_arg,
                        help="real pairs DIR/gt + DIR/lq: content-matched measures of chain(H) against the real L at "
                             "the same patch positions (needs --config; replaces --real/--synth)")
    parser.add_argument("--config", metavar="NAME|YAML", type=path_arg, help="the chain for --pairs")
    parser.add_argument("--synthesis-seeds", default="0", metavar="S1,S2,...",
                        help="with --pairs: synthesis seeds, one row each (default 0)")
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


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--synthesis-seeds: expected comma-separated integers, got {text!r}") from None
    if not seeds:
        raise ValueError("--synthesis-seeds: expected at least one seed")
    return seeds


def run(args: argparse.Namespace) -> int:
    check_patch_args(args)
    if args.pairs is not None:
        return _run_pairs(args)
    if args.config is not None:
        raise ValueError("--config is used with --pairs only")
    if args.real is None or args.synth is None:
        raise ValueError("pass --real DIR and --synth DIR, or --pairs DIR --config CHAIN")
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


def _run_pairs(args: argparse.Namespace) -> int:
    if args.config is None:
        raise ValueError("--pairs needs --config CHAIN (the chain whose LQ of each H is compared with the real L)")
    for option in ("real", "synth", "hq", "inception_weights"):
        if getattr(args, option) is not None:
            raise ValueError(f"--pairs replaces --real/--synth/--hq/--inception-weights; drop --{option.replace('_', '-')}")
    seeds = _seeds(args.synthesis_seeds)
    if args.out:
        check_output_file(Path(args.out), "--out")
    with pairs_folder(args.pairs) as pairs:
        report = evaluate_pairs(pairs, args.config, seeds=seeds, patch_size=args.patch_size,
                                patches_per_image=args.patches_per_image, seed=args.seed, steps=args.steps,
                                classifier=not args.no_classifier, device=resolve_device(args.device))
    print(format_pairs_report(report))
    if args.out:
        print(f"report written to {write_json_atomic(args.out, report)}")
    return 0
