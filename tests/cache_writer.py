"""One writer process of the PairCache multi-writer test: ``python cache_writer.py ROOT MAX_BYTES NAME COUNT WRITERS``.

Opens the cache (its size scan happens here), waits until all WRITERS processes have opened it, then
stores COUNT entries keyed NAME-i with the identity chain, and prints its counters as JSON."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

import degrade_stream as ds


def main(root: str, max_bytes: str, name: str, count: str, writers: str) -> None:
    cache = ds.PairCache(root, max_bytes=int(max_bytes))
    ready = Path(root) / f".ready-{name}"
    ready.write_text("")
    deadline = time.monotonic() + 60
    while len(list(Path(root).glob(".ready-*"))) < int(writers):  # every writer scanned an empty folder
        if time.monotonic() > deadline:
            raise SystemExit("the other writers never started")
        time.sleep(0.01)
    chain = ds.load_chain("identity")
    generator = torch.Generator().manual_seed(len(name))
    for i in range(int(count)):
        hq = torch.rand(1, 3, 16, 16, generator=generator)
        cache.synthesize(chain, hq, [f"{name}-{i}"], seed=0, epoch=0)
    print(json.dumps(cache.stats()))


if __name__ == "__main__":
    main(*sys.argv[1:])
