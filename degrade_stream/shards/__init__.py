"""WebDataset tar shards of (HQ, LQ) pairs: the format ``synthesize --format webdataset`` writes, and reading
them back (a PairStream loader, a pairs folder for evaluate and compare-chains). Needs the optional
``webdataset`` package: ``pip install "degrade_stream[webdataset]"``."""
from .format import SHARD_GLOB, escape_key, lq_member, shard_name, unescape_key
from .reader import gt_loader, pairs_folder, read_pair_samples, shard_paths
from .writer import ShardFile, pair_sample, write_shard

__all__ = ["SHARD_GLOB", "ShardFile", "escape_key", "gt_loader", "lq_member", "pair_sample",
           "pairs_folder", "read_pair_samples", "shard_name", "shard_paths", "unescape_key", "write_shard"]
