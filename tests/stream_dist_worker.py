"""One rank of the two-process stream test (run by test_stream_distributed.py, gloo on CPU).

argv: rank world_size rendezvous_file shared_cache_dir race_cache_dir output_file
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402
from torch.utils.data.distributed import DistributedSampler  # noqa: E402

import degrade_stream as ds  # noqa: E402
from degrade_stream.core.device import rank_and_world  # noqa: E402
from core_helpers import CHAIN  # noqa: E402
from stream_helpers import HQCrops, collect  # noqa: E402


def main() -> None:
    rank, world, rendezvous, shared, race, output = sys.argv[1:7]
    rank, world = int(rank), int(world)
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    assert rank_and_world() == (rank, world)
    torch.set_num_threads(1)
    chain = ds.load_chain(CHAIN)
    dataset = HQCrops()
    # DDP style: each rank streams its own shard (DistributedSampler, epoch set through the stream)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=0)
    stream = ds.PairStream(DataLoader(dataset, batch_size=2, sampler=sampler), chain, device="cpu", seed=7,
                           cache=ds.PairCache(shared, variants=2))
    sharded = collect(stream, epochs=(0, 1, 2))
    stream.close()
    # concurrent writers: both ranks synthesise the SAME keys into one folder at the same time
    cache = ds.PairCache(race, variants=1)
    images = torch.stack([dataset[i]["gt"] for i in range(len(dataset))])
    keys = [dataset[i]["key"] for i in range(len(dataset))]
    raced = []
    for seed in range(4):
        dist.barrier()
        lq, _ = cache.synthesize(chain, images, keys, seed=seed, epoch=0)
        raced.append(lq)
    dist.barrier()
    torch.save({"sharded": sharded, "raced": raced}, output)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
