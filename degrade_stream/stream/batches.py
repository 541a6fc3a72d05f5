"""What PairStream accepts from a loader: a (B,3,H,W) tensor, or a dict with ``gt``/``hq`` and keys.

Keys are looked up as ``key``, then ``path``, then BasicSR's ``gt_path`` and ``lq_path`` (its datasets return
them; basicsr/data/paired_image_dataset.py), then ``index``. A loader without any gets the running
sample index of the epoch ("0", "1", ...): seeds then follow the position in the epoch, not the
image, so shuffled keyless loaders get a different LQ per image and order (``KEYLESS_WARNING``).

Checks: shape and dtype on every batch. uint8 batches cannot be out of range. A float batch's values
are checked in full (finite, in [0, 1]) on the first batch of a pass and, after that, on a strided
1-in-64 pixel sample: a loader that yields 0..255 floats or garbage fails at once, and the per-batch
cost stays ~1/64 of a read of the batch instead of a full pass over every pixel.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import Tensor

from ..core.checks import check_image_batch
from .seeds import key_strings

GT_NAMES = ("gt", "hq")
KEY_NAMES = ("key", "path", "gt_path", "lq_path", "index")
KEYLESS_WARNING = ("PairStream: the loader's batches carry no sample key ({names}), so each sample's seed follows "
                   "its position in the epoch, not its image: with a shuffled loader an image gets another LQ at each "
                   "order. Give each sample a key (a dict batch with its file path in 'path') for per-image seeds.")


SAMPLE_STRIDE = 8  # after the first batch, float values are checked on every 8th row and column


def split_batch(batch: Any, full_check: bool = True) -> tuple[Tensor, list[str] | None]:
    """(HQ images, keys or None) from one loader batch; ValueError naming what was expected."""
    if isinstance(batch, Tensor):
        return check_loader_images(batch, full_check=full_check), None
    if not isinstance(batch, Mapping):
        raise ValueError("PairStream: the loader must yield a (B, 3, H, W) tensor or a dict with 'gt' or 'hq' "
                         f"(and optionally one of {'/'.join(KEY_NAMES)}), got {type(batch).__name__}")
    name = next((n for n in GT_NAMES if n in batch), None)
    if name is None:
        raise ValueError(f"PairStream: the loader's dict batches need a 'gt' or 'hq' entry with the HQ images; "
                         f"got keys {sorted(map(str, batch))}")
    gt = check_loader_images(batch[name], f"batch[{name!r}]", full_check)
    key_name = next((n for n in KEY_NAMES if n in batch), None)
    if key_name is None:
        return gt, None
    try:
        keys = key_strings(batch[key_name])
    except TypeError as err:
        raise ValueError(f"PairStream: batch[{key_name!r}] must hold one str/int key per sample: {err}") from None
    if len(keys) != gt.shape[0]:
        raise ValueError(f"PairStream: batch[{key_name!r}] has {len(keys)} keys for {gt.shape[0]} images")
    return gt, keys


def check_loader_images(images: Any, name: str = "batch", full_check: bool = True) -> Tensor:
    """A (B,3,H,W) uint8 tensor, or float in [0, 1]; anything else is a ValueError/TypeError. Without
    ``full_check`` the float range is checked on a strided sample of the pixels only."""
    label = f"PairStream: loader {name}"
    if isinstance(images, Tensor) and images.device.type == "meta":
        raise ValueError(f"{label} is a meta tensor (a shape without values); the loader must yield real images")
    if isinstance(images, Tensor) and images.dtype == torch.uint8:
        if images.dim() != 4 or images.shape[1] != 3 or images.numel() == 0:
            raise ValueError(f"{label} must have shape (B, 3, H, W), got uint8 shape {tuple(images.shape)}")
        return images
    if isinstance(images, Tensor) and images.dim() == 4 and images.shape[1] == 3 and images.numel() > 0 \
            and images.dtype.is_floating_point:
        # one pass instead of isfinite + any + aminmax: NaN propagates through aminmax and an Inf is out
        # of range, so a batch passing this check is finite and in [0, 1]
        probe = images if full_check else images[:, :, ::SAMPLE_STRIDE, ::SAMPLE_STRIDE]
        lo, hi = torch.aminmax(probe)
        if float(lo) >= -1e-6 and float(hi) <= 1 + 1e-6:
            return images
    return check_image_batch(images, label)  # the detailed message


def to_float_images(images: Tensor) -> Tensor:
    """uint8 [0, 255] -> float32 [0, 1]; float batches pass through."""
    return images.to(torch.float32).div_(255.0) if images.dtype == torch.uint8 else images
