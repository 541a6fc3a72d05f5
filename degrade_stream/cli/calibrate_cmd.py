"""``degrade-stream calibrate``: fit a chain's ranges and probabilities to your real LQ images (or pairs);
writes the calibrated chain YAML and a JSON report, both atomically, and prints a table."""
from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import yaml

from ..atomic import write_json_atomic, write_text_atomic
from ..calibrate.calibrate import calibrate
from ..calibrate.report import format_table
from ..calibrate.search import import_cmaes
from ..core.config import chain_from_dict, load_chain
from .match_scale import add_match_scale_argument, matched_folder
from ..offline.pair_plan import check_batch_size
from .arg_checks import check_output_file, path_arg
from .pair_writer import resolve_device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="NAME|YAML", type=path_arg, help="the chain to start from")
    parser.add_argument("--real", metavar="DIR|LIST.txt", type=path_arg,
                        help="real LQ images: a folder, or a .txt list of paths (relative to the list)")
    parser.add_argument("--hq", metavar="DIR|LIST.txt", type=path_arg, help="HQ images the chain degrades")
    parser.add_argument("--pairs", metavar="DIR", type=path_arg,
                        help="real aligned pairs DIR/gt/NAME + DIR/lq/NAME (instead of --real and --hq)")
    parser.add_argument("--out", required=True, metavar="FILE.yaml", type=path_arg, help="the calibrated chain")
    parser.add_argument("--report", metavar="FILE.json", type=path_arg, help="the JSON report (default: OUT with .json)")
    parser.add_argument("--budget", type=int, default=300, metavar="N", help="candidates to score (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of crops, chain seeds, patches and search (default 0)")
    parser.add_argument("--params", metavar="A,B,...", help="tune only these arguments (default: every tunable one), "
                                                             "e.g. noise_range,jpeg_range or stages[0].jpeg_range")
    parser.add_argument("--colour", action="store_true", help="also fit the colour/brightness/contrast statistics")
    parser.add_argument("--crops", type=int, default=32, metavar="N", help="HQ crops scored per candidate (default 32)")
    parser.add_argument("--crop", type=int, metavar="PX", help="HQ crop side (default 64 LQ px x the chain's scale)")
    parser.add_argument("--patch-size", type=int, default=32, help="statistics patch size, a multiple of 8 (default 32)")
    parser.add_argument("--patches-per-crop", type=int, default=16, metavar="N", help="(default 16)")
    parser.add_argument("--patches-per-image", type=int, default=64, metavar="N",
                        help="patches per real LQ image, as evaluate (default 64)")
    parser.add_argument("--sigma", type=float, default=0.2, help="CMA-ES initial step, in units of each argument's "
                                                                 "search interval (default 0.2)")
    parser.add_argument("--batch-size", type=int, default=16, help="crops per chain call (default 16)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu; 'auto' for cuda when present)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_match_scale_argument(parser)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    report_path = Path(args.report) if args.report else out.with_suffix(".json")
    if report_path == out:
        raise ValueError(f"--report {report_path} is the same file as --out")
    check_batch_size(args.batch_size)
    check_output_file(out, "--out")
    check_output_file(report_path, "--report")
    params = [p.strip() for p in args.params.split(",") if p.strip()] if args.params is not None else None
    if params is not None and not params:
        raise ValueError("--params: expected a comma-separated list of argument names, got an empty list")
    try:
        import_cmaes()
    except ImportError as err:  # a missing extra is the user's to fix: one line, not an unexpected error
        raise ValueError(str(err)) from None
    if args.match_scale is not None and (args.hq is None or not Path(args.hq).is_dir()):
        raise ValueError("--match-scale needs --hq DIR (a folder of HQ images; with --pairs the scale is the pairs')")
    started = time.perf_counter()
    matched = matched_folder(args.hq, args.match_scale, load_chain(args.config).scale) \
        if args.match_scale is not None else contextlib.nullcontext(args.hq)
    with matched as hq:
        result = calibrate(args.config, real=args.real, hq=hq, pairs=args.pairs,
                           budget=args.budget, seed=args.seed, params=params, colour=args.colour, crops=args.crops,
                           crop=args.crop, patch_size=args.patch_size, patches_per_crop=args.patches_per_crop,
                           patches_per_image=args.patches_per_image, sigma=args.sigma, batch_size=args.batch_size,
                           device=resolve_device(args.device), progress=not args.no_progress)
    chain_from_dict(result.config)  # the written YAML must load
    print(format_table(result.report))
    write_json_atomic(report_path, result.report)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, yaml.safe_dump(result.config, sort_keys=False, allow_unicode=True))
    print(f"calibrated chain written to {out}, report to {report_path} ({time.perf_counter() - started:.0f} s)")
    return 0
