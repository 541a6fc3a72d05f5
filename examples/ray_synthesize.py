"""(HQ, LQ) pairs of a folder or any Ray-readable URI on Ray Data, written as Parquet or WebDataset shards.

    pip install "degrade_stream[ray]"
    python examples/ray_synthesize.py --out pairs_parquet/                     # the shipped samples, local Ray
    python examples/ray_synthesize.py --hq s3://bucket/hq/ --out s3://bucket/pairs/ --address auto
    python examples/ray_synthesize.py --hq my_hq/ --out shards/ --format webdataset --shard-size 1000

Each pair equals what ``degrade-stream synthesize --hq <same folder> --seed <same seed>`` writes for that
file (degrade_stream/scale/rows.py). Parquet is written by the Ray workers (``Dataset.write_parquet``):
columns key, name, variant, seed, height, width, gt and lq (PNG bytes), json (the pairs.jsonl record) and
skipped (the reason, for files synthesize would skip). WebDataset shards ``pairs-000000.tar``... are
written by this process from the pairs sorted as synthesize orders them (degrade_stream/scale/shard_rows.py),
so they are byte-identical to ``synthesize --format webdataset --shard-size N``'s; skipped files are listed
in skipped.txt beside them.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import ray

from degrade_stream.cli.output_folder import write_skipped
from degrade_stream.cli.pair_writer import DEFAULT_SHARD_SIZE
from degrade_stream.scale.ray_data import read_hq, synthesize_dataset
from degrade_stream.scale.shard_rows import write_row_shards

SAMPLES = Path(__file__).resolve().parents[1] / "degrade_stream" / "assets" / "samples"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hq", default=str(SAMPLES), help="folder or URI of HQ images (default: the shipped samples)")
    parser.add_argument("--out", required=True, help="output folder or URI (a local folder with --format webdataset)")
    parser.add_argument("--config", default="realesrgan", help="chain: a shipped name or a YAML file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--format", choices=("parquet", "webdataset"), default="parquet")
    parser.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE, help="images per WebDataset shard")
    parser.add_argument("--batch-size", type=int, default=8, help="rows per map_batches call")
    parser.add_argument("--actors", type=int, default=None,
                        help="actor pool size (default: 1 actor for a chain with a model, else plain tasks)")
    parser.add_argument("--gpus-per-actor", type=float, default=None, help="default: 1 for a model chain, else 0")
    parser.add_argument("--cpus-per-worker", type=float, default=1.0)
    parser.add_argument("--address", default=None, help="Ray cluster address (default: start a local instance)")
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local instance")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address=args.address, num_cpus=args.num_cpus, include_dashboard=False)
    try:
        pairs = synthesize_dataset(read_hq(args.hq), args.config, seed=args.seed, root=args.hq,
                                   variants=args.variants, batch_size=args.batch_size, actors=args.actors,
                                   num_gpus=args.gpus_per_actor, num_cpus=args.cpus_per_worker, png=True)
        if args.format == "parquet":
            pairs.write_parquet(args.out)
            print(f"pairs written as Parquet to {args.out}")
            return
        rows = pairs.sort(["height", "width", "name", "variant"]).iter_rows()
        shards, skipped = write_row_shards(rows, args.out, args.shard_size)
        write_skipped(Path(args.out), dict(sorted(skipped.items())))
        print(f"{sum(s.samples for s in shards)} samples in {len(shards)} shards written to {args.out}, "
              f"{len(skipped)} files skipped")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
