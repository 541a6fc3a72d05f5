"""(HQ, LQ) pairs of a folder or any Ray-readable URI on Ray Data, written as Parquet or WebDataset shards.

    pip install "degrade_stream[ray]"
    python examples/ray_synthesize.py --out pairs_parquet/                     # the shipped samples, local Ray
    python examples/ray_synthesize.py --hq s3://bucket/hq/ --out s3://bucket/pairs/ --address auto
    python examples/ray_synthesize.py --hq my_hq/ --out shards/ --format webdataset --shard-size 1000

Each pair equals what ``degrade-stream synthesize --hq <same folder> --seed <same seed>`` writes for that
file (degrade_stream/scale/rows.py). Parquet is written by the Ray workers (``Dataset.write_parquet``):
columns key, name, variant, seed, gt and lq (PNG bytes), json (the pairs.jsonl record) and skipped (the
reason, for files synthesize would skip). WebDataset shards ``pairs-000000.tar``... are written by this
process from the pairs sorted by (key, variant), with the ``webdataset`` library: one sample per HQ image
holding ``gt.png``, ``lq.png`` (``lq_v<k>.png`` with --variants K > 1) and ``json``; skipped files are
listed in skipped.txt beside the shards.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import ray

from degrade_stream.io import flat_name
from degrade_stream.scale.ray_data import read_hq, synthesize_dataset

SAMPLES = Path(__file__).resolve().parents[1] / "degrade_stream" / "assets" / "samples"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hq", default=str(SAMPLES), help="folder or URI of HQ images (default: the shipped samples)")
    parser.add_argument("--out", required=True, help="output folder or URI")
    parser.add_argument("--config", default="realesrgan", help="chain: a shipped name or a YAML file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--format", choices=("parquet", "webdataset"), default="parquet")
    parser.add_argument("--shard-size", type=int, default=1000, help="samples per WebDataset shard")
    parser.add_argument("--batch-size", type=int, default=8, help="rows per map_batches call")
    parser.add_argument("--actors", type=int, default=None,
                        help="actor pool size (default: 1 actor for a chain with a model, else plain tasks)")
    parser.add_argument("--gpus-per-actor", type=float, default=None, help="default: 1 for a model chain, else 0")
    parser.add_argument("--cpus-per-worker", type=float, default=1.0)
    parser.add_argument("--address", default=None, help="Ray cluster address (default: start a local instance)")
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local instance")
    return parser.parse_args()


def write_webdataset(pairs: "ray.data.Dataset", out: Path, shard_size: int, variants: int) -> tuple[int, list[str]]:
    """Samples (one per HQ image, rows sorted by key and variant) into out/pairs-%06d.tar; returns (samples
    written, skipped lines). With one variant ``json`` is the pair's record, else the list of its variants'."""
    import webdataset as wds

    out.mkdir(parents=True, exist_ok=True)
    skipped: list[str] = []
    samples: list[dict] = []
    with wds.ShardWriter(str(out / "pairs-%06d.tar"), maxcount=shard_size, verbose=0) as sink:
        for row in pairs.sort(["key", "variant"]).iter_rows():
            if row["skipped"]:
                skipped.append(f"{row['key']}\t{row['skipped']}")
                continue
            if not samples or samples[-1]["__key__"] != flat_name(row["key"]):
                if samples:
                    sink.write(samples.pop())
                samples.append({"__key__": flat_name(row["key"]), "gt.png": row["gt"], "json": []})
            sample = samples[-1]
            sample["lq.png" if variants == 1 else f"lq_v{row['variant']}.png"] = row["lq"]
            sample["json"].append(json.loads(row["json"]))
            if variants == 1:
                sample["json"] = sample["json"][0]
        for sample in samples:
            sink.write(sample)
        written = sink.total
    return written, skipped


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
        written, skipped = write_webdataset(pairs, Path(args.out), args.shard_size, args.variants)
        if skipped:
            (Path(args.out) / "skipped.txt").write_text("\n".join(skipped) + "\n", encoding="utf-8")
        print(f"{written} samples written to {args.out}/pairs-*.tar, {len(skipped)} files skipped")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
