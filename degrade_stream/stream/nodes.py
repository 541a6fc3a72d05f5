"""The torchdata pipeline under PairStream: loader -> keyed batches -> background synthesis.

``IterableWrapper(loader)`` saves/restores the loader itself when it is Stateful (torchdata's
``StatefulDataLoader``), else fast-forwards a fresh iterator by the number of batches already
taken, which replays exactly when the loader's order is deterministic for the epoch (no shuffle,
a seeded sampler re-seeded per epoch like ``DistributedSampler``). ``KeyedBatches`` adds the
epoch and the per-sample keys and keeps the running sample index in its state; it checks the first
batch after each reset in full and the rest cheaply (``batches.py``);
``BackgroundMap`` synthesises pairs ahead of the consumer.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Optional

from torchdata.nodes import BaseNode, IterableWrapper, Loader

from .batches import KEY_NAMES, KEYLESS_WARNING, split_batch
from .prefetch import BackgroundMap

logger = logging.getLogger("degrade_stream.stream")


class KeyedBatches(BaseNode):
    """Loader batches as ``{"gt", "keys", "epoch", "keyless"}``; keyless samples get their running index (and the
    first keyless batch logs ``KEYLESS_WARNING`` once per pipeline)."""

    def __init__(self, source: BaseNode, current_epoch: Callable[[], int]) -> None:
        super().__init__()
        self.source = source
        self.current_epoch = current_epoch
        self._index = 0
        self._epoch = 0
        self._checked = 0
        self._warned = False

    def reset(self, initial_state: Optional[dict] = None) -> None:
        super().reset(initial_state)
        if initial_state is not None:
            self.source.reset(initial_state["source"])
            self._index = int(initial_state["index"])
            self._epoch = int(initial_state["epoch"])
        else:
            self.source.reset(None)
            self._index = 0
            self._epoch = self.current_epoch()
        self._checked = 0  # batches checked since this reset: the first gets the full range check

    def next(self) -> dict[str, Any]:
        gt, keys = split_batch(next(self.source), full_check=self._checked == 0)
        self._checked += 1
        b = int(gt.shape[0])
        keyless = keys is None
        if keyless:
            keys = [str(i) for i in range(self._index, self._index + b)]
            if not self._warned:
                logger.warning(KEYLESS_WARNING.format(names=", ".join(f"'{n}'" for n in KEY_NAMES)))
                self._warned = True
        self._index += b
        return {"gt": gt, "keys": keys, "epoch": self._epoch, "keyless": keyless}

    def get_state(self) -> dict[str, Any]:
        return {"source": self.source.state_dict(), "index": self._index, "epoch": self._epoch}


def build_pipeline(loader: Iterable[Any], make_pair: Callable[[dict[str, Any]], Any], current_epoch: Callable[[], int],
                   depth: int, stream_context: Callable[[], Any], threads: int | None = None
                   ) -> tuple[Loader, BackgroundMap]:
    """The torchdata ``Loader`` PairStream iterates, and its background node (for ``close``)."""
    keyed = KeyedBatches(IterableWrapper(loader), current_epoch)
    background = BackgroundMap(keyed, make_pair, depth=depth, stream_context=stream_context, threads=threads)
    return Loader(background), background
