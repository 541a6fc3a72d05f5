"""``degrade-stream compare-chains``: which chain makes pairs closest to real LQ, and trains the best restorer?"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from ..atomic import write_json_atomic
from ..core.chain import Chain
from ..core.config import load_chain
from ..restore.compare import Settings, baselines, compare_row
from ..restore.pairs import load_pairs, pair_files
from ..shards.reader import pairs_folder
from ..offline.pair_plan import check_batch_size
from .arg_checks import check_output_file, path_arg
from .pair_writer import resolve_device


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one seed")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--train", required=True, metavar="DIR", type=path_arg,
                        help="real pairs to train on (gt/, lq/)")
    parser.add_argument("--test", required=True, metavar="DIR", type=path_arg, help="real pairs to test on (gt/, lq/)")
    parser.add_argument("--chains", required=True, help="comma-separated chain names or YAML paths, each at scale 1 "
                                                        "(resize_back: true)")
    parser.add_argument("--steps", type=int, default=300, help="restorer training steps (default 300)")
    parser.add_argument("--seeds", type=_int_list, default=[0, 1, 2], help="restorer seeds (default 0,1,2)")
    parser.add_argument("--crop", type=int, default=64, help="training crop size in px (default 64)")
    parser.add_argument("--batch-size", type=int, default=16, help="training batch size (default 16)")
    parser.add_argument("--eval-crop", type=int, default=256,
                        help="score restorers on the centre N x N of each test pair; 0: whole images (default 256)")
    parser.add_argument("--classifier-steps", type=int, default=300,
                        help="classifier two-sample test steps (default 300)")
    parser.add_argument("--device", default="auto", help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--out", metavar="FILE", type=path_arg, help="write the report as JSON here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def load_chains(text: str) -> list[tuple[str, Chain]]:
    """(name, chain) for each entry of --chains; an error naming a chain whose LQ is not at the HQ size."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if len(names) < 1:
        raise ValueError("--chains: expected at least one chain name or YAML path")
    chains = []
    for name in names:
        chain = load_chain(name)
        if chain.scale != 1:
            raise ValueError(f"--chains: chain {name!r} has scale {chain.scale}; compare-chains needs LQ at the HQ "
                             f"size: set 'resize_back: true' on its stage (or scale 1)")
        chains.append((name, chain))
    return chains


def check_numbers(args: argparse.Namespace) -> None:
    check_batch_size(args.batch_size)
    for option, value, low in (("--steps", args.steps, 1), ("--crop", args.crop, 16),
                               ("--eval-crop", args.eval_crop, 0),
                               ("--classifier-steps", args.classifier_steps, 1)):
        if value < low:
            raise ValueError(f"{option} must be >= {low}, got {value}")


def format_table(report: dict[str, Any]) -> str:
    """A markdown table: one row per chain plus the two baselines."""
    lines = ["| chain | test paired Fréchet (deg) [95 % CI] | test classifier by scene, acc [CI] / AUC "
             "| test PSNR chain(H) vs L [CI] / SSIM | train paired Fréchet (deg) "
             "| restorer(L) vs H PSNR | SSIM |", "|---|---|---|---|---|---|---|"]
    for row in report["rows"]:
        te, tr, r = row["realism"]["test"], row["realism"]["train"], row["restorer"]
        c = te["classifier"]
        classifier = "failed run" if c["failed"] else \
            f"{c['accuracy']:.2f} [{c['accuracy_ci'][0]:.2f}, {c['accuracy_ci'][1]:.2f}] / {c['auc']:.2f}"
        lines.append(f"| {row['chain']} | {te['frechet_degradation']:.2f} [{te['frechet_degradation_ci'][0]:.2f}, "
                     f"{te['frechet_degradation_ci'][1]:.2f}] | {classifier} "
                     f"| {te['pair_psnr']:.2f} [{te['pair_psnr_ci'][0]:.2f}, {te['pair_psnr_ci'][1]:.2f}] / "
                     f"{te['pair_ssim']:.3f} | {tr['frechet_degradation']:.2f} "
                     f"| {r['psnr']['mean']:.2f} ± {r['psnr']['std']:.2f} "
                     f"| {r['ssim']['mean']:.4f} ± {r['ssim']['std']:.4f} |")
    b = report["baselines"]
    for key, label in (("no_restoration", "no restoration (real L)"),
                       ("identity_init", "identity-initialised restorer")):
        lines.append(f"| {label} | | | | | {b[key]['psnr']:.2f} | {b[key]['ssim']:.4f} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    check_numbers(args)
    if args.out:
        check_output_file(Path(args.out), "--out")
    chains = load_chains(args.chains)
    with pairs_folder(args.train) as train_dir, pairs_folder(args.test) as test_dir:  # shard folders too
        return _compare(args, chains, train_dir, test_dir)


def _compare(args: argparse.Namespace, chains: list[tuple[str, Chain]], train_dir: Path, test_dir: Path) -> int:
    pair_files(train_dir, "--train")
    pair_files(test_dir, "--test")
    device = resolve_device(args.device)
    s = Settings(steps=args.steps, seeds=tuple(args.seeds), crop=args.crop, batch_size=args.batch_size,
                 eval_crop=args.eval_crop, classifier_steps=args.classifier_steps, device=str(device))
    train, test = load_pairs(train_dir, "--train"), load_pairs(test_dir, "--test")
    start = time.perf_counter()
    report: dict[str, Any] = {"train": str(train.folder), "test": str(test.folder), "train_pairs": len(train.names),
                              "test_pairs": len(test.names), "settings": {**vars(s), "seeds": list(s.seeds),
                                                                          "torch_threads": torch.get_num_threads()},
                              "baselines": baselines(test, s), "rows": []}
    for name, chain in chains:
        chain.to(device)
        report["rows"].append(compare_row(name, chain, train, test, s, progress=not args.no_progress))
    report["seconds"] = time.perf_counter() - start
    print(format_table(report))
    if args.out:
        print(f"report written to {write_json_atomic(args.out, report)}")
    return 0
