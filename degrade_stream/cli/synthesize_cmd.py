"""``degrade-stream synthesize``: write (HQ, LQ) training pairs to disk (resumable, shardable)."""
from __future__ import annotations

import argparse

from ..core.config import load_chain
from .arg_checks import path_arg
from .match_scale import add_match_scale_argument, matched_folder
from .pair_writer import DEFAULT_SHARD_SIZE, FORMATS, synthesize_pairs
from .sharding import close, resolve_shard


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="NAME|YAML", type=path_arg,
                        help="degradation chain: a shipped name (see 'degrade-stream configs') or a YAML file")
    parser.add_argument("--hq", required=True, metavar="DIR", type=path_arg, help="folder of HQ images (searched recursively)")
    parser.add_argument("--out", required=True, metavar="DIR", type=path_arg, help="output folder (created; rerun to resume)")
    parser.add_argument("--seed", type=int, default=0, help="base seed; each pair's seed derives from it and "
                                                            "the file's path relative to --hq (default 0)")
    parser.add_argument("--variants", type=int, default=1, metavar="K",
                        help="LQ variants per HQ image, written as lq/<name>_v<k>.png, each with its GT "
                             "gt/<name>_v<k>.png (hard links of one file; default 1)")
    parser.add_argument("--format", choices=FORMATS, default="folder",
                        help="folder: OUT/gt/ and OUT/lq/ PNG files (default); webdataset: OUT/pairs-NNNNNN.tar "
                             "shards, each sample holding gt.png, lq.png (lq_v<k>.png) and json "
                             '(needs: pip install "degrade_stream[webdataset]")')
    parser.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE, metavar="N",
                        help=f"images per tar shard with --format webdataset (default {DEFAULT_SHARD_SIZE})")
    parser.add_argument("--batch-size", type=int, default=8, metavar="B",
                        help="images of equal size degraded together on the device (default 8)")
    parser.add_argument("--device", default="auto",
                        help="torch device, e.g. cpu, cuda, cuda:1 (default: cuda[:LOCAL_RANK] if available)")
    parser.add_argument("--shard", metavar="I/N", help="do only share I of N (0-based); under torchrun the "
                                                       "ranks split the work automatically")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_match_scale_argument(parser)


def run(args: argparse.Namespace) -> int:
    shard = resolve_shard(args.shard)
    try:
        scale = load_chain(args.config).scale if args.match_scale is not None else 1
        with matched_folder(args.hq, args.match_scale, scale) as hq_dir:
            summary = synthesize_pairs(args.config, hq_dir, args.out, seed=args.seed, variants=args.variants,
                                       batch_size=args.batch_size, device=args.device, shard=shard,
                                       progress=not args.no_progress, format=args.format,
                                       shard_size=args.shard_size)
    finally:
        close(shard)
    if shard.is_main or not shard.group:
        prefix = f"shard {shard.index}/{shard.count}: " if shard.count > 1 and not shard.group else ""
        print(prefix + summary.line())
        for key in sorted(summary.redone_keys):
            print(f"  redone {key}: the file changed (content or size) since its pairs were written")
        for key, reason in sorted(summary.reasons.items()):
            print(f"  skipped {key}: {reason}")
    return 1 if summary.skipped else 0
