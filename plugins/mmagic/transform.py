"""``DegradeStream``: an mmagic data-pipeline transform (``TRANSFORMS``) that makes the LQ of one sample.

For CPU workers: ``dict(type='DegradeStream', config='realesrgan', scale=4)`` after the GT crop
writes the LQ into ``img`` (same dtype, 0..255 range and channel order as ``gt``), so ``PackInputs``
packs ``img`` as the model input and ``gt`` as ``gt_img``, as for a paired dataset. The GT is
cropped to a multiple of the chain's scale, so GT = scale x LQ exactly.

Seeding: the sample's seed is derived from ``seed``, its key (``key`` from BasicImageDataset, else its
GT path) and a hash of the GT pixels it receives, so the LQ is reproducible for a given crop and
changes whenever the random crop before it does (a data-pipeline transform does not know the epoch).
Prefer ``DegradeStreamDataPreprocessor`` for batched synthesis on the GPU.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from degrade_stream.core.seed_domain import canonical_seed
from degrade_stream.stream.crop import crop_to_scale
from degrade_stream.stream.seeds import content_seeds
from degrade_stream.plugins.chain_option import chain_from_option, check_scale
from degrade_stream.plugins.mmagic.images import hwc_to_rgb01, is_bgr, rgb01_to_hwc
from degrade_stream.plugins.mmagic.imports import import_mmagic

import_mmagic()

from mmcv.transforms import BaseTransform  # noqa: E402
from mmagic.registry import TRANSFORMS  # noqa: E402


@TRANSFORMS.register_module()
class DegradeStream(BaseTransform):
    """Synthesise ``results[output_key]`` (LQ) from ``results[key]`` (GT, HWC) with a degrade_stream chain.

    Args:
        config: a shipped chain name, a chain YAML path, or a chain dict.
        key: the GT field (default ``gt``). output_key: where the LQ goes (default ``img``).
        seed: the run seed. scale: if given, must equal the chain's scale.
    """

    def __init__(self, config: Any, key: str = "gt", output_key: str = "img", seed: int = 0,
                 scale: int | None = None) -> None:
        self.chain = chain_from_option(config, "DegradeStream.config")
        self.scale = check_scale(self.chain, scale, "DegradeStream.scale")
        seed = canonical_seed(seed, "DegradeStream.seed")  # any integer, reduced modulo 2**64
        self.key, self.output_key, self.seed = key, output_key, seed

    def transform(self, results: dict) -> dict:
        if self.key not in results:
            raise KeyError(f"DegradeStream: no {self.key!r} in the pipeline results (keys: {sorted(results)}); "
                           "load the GT first, e.g. dict(type='LoadImageFromFile', key='gt')")
        gt = results[self.key]
        if not isinstance(gt, np.ndarray):
            raise TypeError(f"DegradeStream: results[{self.key!r}] must be an HWC numpy image, got {type(gt).__name__}")
        gt = crop_to_scale(gt, self.scale, channels_last=True)
        bgr = is_bgr(results.get(f"{self.key}_channel_order"))
        hq = hwc_to_rgb01(gt, bgr)
        name = str(results.get("key", results.get(f"{self.key}_path", "")))
        seeds = content_seeds(self.seed, [name], hq)
        lq = self.chain(hq, seed=seeds).lq
        results[self.key] = gt
        results[self.output_key] = rgb01_to_hwc(lq, bgr, gt)
        results[f"{self.output_key}_channel_order"] = results.get(f"{self.key}_channel_order", "bgr")
        results[f"ori_{self.output_key}_shape"] = results[self.output_key].shape
        results["degrade_stream_seed"] = int(seeds[0])
        return results

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(chain={self.chain.name or self.chain.config_hash()!r}, key={self.key!r}, "
                f"output_key={self.output_key!r}, seed={self.seed}, scale={self.scale})")
