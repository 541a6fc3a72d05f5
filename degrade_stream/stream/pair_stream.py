"""PairStream: wrap any DataLoader of HQ images into a stream of (HQ, LQ) training pairs on a device.

    stream = ds.PairStream(loader, ds.load_chain("realesrgan"), device="cuda", seed=0)
    for epoch in range(epochs):
        stream.set_epoch(epoch)
        for batch in stream:          # {"gt", "lq", "key", "params", "seeds", "epoch"}
            loss = model_step(batch["lq"], batch["gt"])

Each sample's seed is ``sample_seeds(seed, epoch, key)`` (``seeds.py``), so its LQ does not depend
on batch composition, shuffling, worker count or world size; keys come from the batch dict
(``key``/``path``/``index``), else the running sample index of the epoch (``batches.py``). The
chain runs in a background thread one or more batches ahead (``prefetch.py``; on CUDA on its own
stream, ``handover.py``). ``state_dict()``/``load_state_dict()`` resume mid-epoch bit-identically
(``nodes.py``). With ``cache=PairCache(...)`` each key cycles through K stored variants; with
``crop=dict(gt_size=..., flip=..., rot90=...)`` an aligned random crop follows synthesis. With ``gt_usm=True``
each batch also holds ``gt_usm``, the GT (after the crop) sharpened by Real-ESRGAN's USM, the target of its
x4plus L1 and perceptual losses (``l1_gt_usm``, ``percep_gt_usm``).

Cost per batch on top of the chain: shape/dtype checks, a range check on float batches (in full on
the first batch of a pass, on a 1-in-64 pixel sample after), the per-sample seeds and the hand-over.
On CPU the background thread runs the chain on ``threads`` intra-op threads (default: half of torch's,
at least 1), so the chain and the consumer's own torch ops do not oversubscribe the cores.
"""
from __future__ import annotations

import functools
import logging
import weakref
from typing import Any, Iterable, Iterator, Mapping

import torch

from ..core.chain import Chain
from ..core.config import load_chain
from ..core.device import check_device, default_device
from ..core.errors import short_repr
from ..core.finite import NonFiniteOutput
from ..core.random import derive_seeds
from ..core.salts import PAIR_CROP
from ..core.seed_domain import canonical_seed
from ..degrade.usm import usm_sharpen
from .batches import to_float_images
from .cache import PairCache
from .crop import check_crop_config, paired_random_crop
from .handover import hand_over, ready_event, stream_context_factory, to_device
from .nodes import build_pipeline
from .state_check import check_stream_state
from .seeds import content_keys, key_strings, sample_seeds, variant_index

logger = logging.getLogger("degrade_stream.stream")


class PairStream:
    """An iterable of pair dicts built from ``loader`` (HQ batches) and ``chain`` (the degradation)."""

    def __init__(self, loader: Iterable[Any], chain: Chain | str | Mapping[str, Any],
                 device: str | torch.device | None = None, seed: int = 0, cache: PairCache | None = None,
                 crop: Mapping[str, Any] | None = None, prefetch: int = 2, threads: int | None = None,
                 gt_usm: bool = False) -> None:
        seed = canonical_seed(seed, "PairStream seed")
        if cache is not None and not isinstance(cache, PairCache):
            raise ValueError(f"PairStream cache must be a PairCache or None, got {type(cache).__name__}")
        if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0:
            raise ValueError(f"PairStream prefetch must be an int >= 0 (0: no background thread), got {prefetch!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ValueError(f"PairStream threads must be an int >= 1 (intra-op threads of the background "
                             f"thread) or None (half of torch's on CPU), got {threads!r}")
        self.loader = loader
        try:
            chosen = torch.device(device) if device is not None else default_device()
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"PairStream device must be like 'cpu', 'cuda' or 'cuda:1', got {short_repr(device)}: "
                             f"{err}") from None
        self.device = check_device(chosen, "PairStream device")  # refused now, not at the first batch
        self.chain = (chain if isinstance(chain, Chain) else load_chain(chain)).to(self.device)
        self.seed = seed
        self.cache = cache
        self.crop = check_crop_config(crop)
        if not isinstance(gt_usm, bool):
            raise ValueError(f"PairStream gt_usm must be true or false, got {gt_usm!r}")
        self.gt_usm = gt_usm
        self.epoch = 0
        if threads is None and self.device.type == "cpu":
            threads = max(1, torch.get_num_threads() // 2)  # the other half stays with the consumer
        self.threads = threads if prefetch > 0 else None
        # weak references from the pipeline back to self: dropping the stream frees it and stops its thread
        me = weakref.ref(self)
        self._loader, self._background = build_pipeline(
            loader, functools.partial(_call_weak, weakref.WeakMethod(self._make_pair)),
            functools.partial(_epoch_of, me), prefetch, stream_context_factory(self.device), self.threads)

    # --- iteration ----------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next iteration (also forwarded to ``loader.sampler.set_epoch``)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
        self.epoch = epoch
        sampler = getattr(self.loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for item, event in self._loader:
            yield hand_over(item, event, self.device)
        if self.cache is not None:
            self.cache.log_stats()

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def state_dict(self) -> dict[str, Any]:
        """Where the stream is: epoch, seed and the pipeline position after the last yielded batch."""
        return {"epoch": self.epoch, "seed": self.seed, "chain": self.chain.config_hash(),
                "pipeline": self._loader.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume: the next ``iter()`` continues right after the batch at which ``state`` was taken."""
        for name in ("epoch", "seed", "chain", "pipeline"):
            if not isinstance(state, Mapping) or name not in state:
                raise ValueError(f"PairStream state is missing {name!r}; pass a dict from PairStream.state_dict()")
        if state["seed"] != self.seed or state["chain"] != self.chain.config_hash():
            raise ValueError(f"PairStream state was saved with seed {state['seed']} and chain {state['chain']}, "
                             f"this stream has seed {self.seed} and chain {self.chain.config_hash()}")
        check_stream_state(state)  # every key the pipeline reads, before it reads them
        self.set_epoch(int(state["epoch"]))
        self._loader.load_state_dict(state["pipeline"])

    def close(self) -> None:
        """Stop the background thread and release the loader's iterator; safe mid-epoch."""
        self._background.close()
        wrapper = self._background.source.source  # IterableWrapper around the loader
        if hasattr(wrapper, "_it"):
            wrapper._it = None  # drop the DataLoader iterator now, which shuts down its workers

    def __enter__(self) -> "PairStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._background.close(timeout=1.0)
        except Exception:
            pass

    # --- synthesis (background thread) --------------------------------------------------------
    def _make_pair(self, item: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        gt = to_float_images(to_device(item["gt"], self.device))
        keys, epoch = item["keys"], item["epoch"]
        out: dict[str, Any] = {"epoch": epoch}
        if self.cache is not None:
            cache_keys = None if item["keyless"] else keys  # keyless: key the cache by HQ content
            try:
                lq, info = self.cache.synthesize(self.chain, gt, cache_keys, self.seed, epoch, check=False)
            except NonFiniteOutput as err:  # nothing was stored; name the samples by their keys
                names = content_keys(gt) if cache_keys is None else key_strings(cache_keys)
                variants = variant_index(self.seed, epoch, names, self.cache.variants)
                raise _keyed(err, names, sample_seeds(self.seed, None, names, variant=variants)) from None
            keys = info.keys
            out.update(params=None, seeds=info.seeds, cache={"hit": info.hit, "variant": info.variants})
        else:
            seeds = sample_seeds(self.seed, epoch, keys)
            try:
                result = self.chain(gt, seed=seeds, check=False)
            except NonFiniteOutput as err:
                raise _keyed(err, key_strings(keys), seeds) from None
            lq = result.lq
            out.update(params=result.params, seeds=seeds)
        if self.crop is not None:
            crop_seeds = derive_seeds(sample_seeds(self.seed, epoch, keys), PAIR_CROP)
            gt, lq, out["crop"] = paired_random_crop(gt, lq, crop_seeds, **self.crop)
        if self.gt_usm:  # Real-ESRGAN sharpens the GT crop it trains on (feed_data, after its crop and queue)
            out["gt_usm"] = usm_sharpen(gt)
        out.update(gt=gt, lq=lq, key=keys)
        return out, ready_event(self.device)


def _keyed(err: NonFiniteOutput, names: list[str], seeds: torch.Tensor) -> NonFiniteOutput:
    """``err`` naming its bad samples by key: each row of the failed chain call is found by its seed."""
    by_seed = dict(zip(seeds.tolist(), names))
    if err.seeds is None:
        return err
    return err.with_keys([by_seed.get(s, f"(seed {s})") for s in err.seeds])


def _call_weak(method: "weakref.WeakMethod", item: Any) -> Any:
    bound = method()
    if bound is None:
        raise ReferenceError("the PairStream was garbage-collected")
    return bound(item)


def _epoch_of(ref: "weakref.ref[PairStream]") -> int:
    stream = ref()
    if stream is None:
        raise ReferenceError("the PairStream was garbage-collected")
    return stream.epoch
