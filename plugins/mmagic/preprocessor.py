"""``DegradeStreamDataPreprocessor``: mmagic's ``DataPreprocessor`` that makes the LQ ``inputs`` from
the GT batch on the model's device (registered in mmagic's ``MODELS``).

mmagic runs its Real-ESRGAN degradations per sample with cv2 in CPU workers; here the pipeline only
loads and crops GT (``PackInputs`` packs it as ``gt_img``), and the chain runs batched wherever the
model is, before mmagic's usual channel-order conversion and normalisation (which then treat LQ and
GT alike). Everything else (validation on paired data, ``destruct``) is the parent's.

Seeding: sample i's seed comes from (``seed``, its key, how many times this preprocessor has seen
that key), so every pass over the data gets fresh LQ, and a sample's LQ does not depend on the
batch it lands in, the worker count or the rank. The key is the ``key`` metainfo (add
``meta_keys=['key']`` to ``PackInputs``), else ``gt_path``, else a hash of the GT pixels. The pass
count lives in this process (mmagic's InfiniteSampler has no epochs to ask for): a resumed run starts
counting again, and under DDP a key's count is that of the rank that drew it.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from degrade_stream.core.seed_domain import canonical_seed
from degrade_stream.stream.seeds import visit_seeds
from degrade_stream.plugins.chain_option import chain_from_option, check_scale
from degrade_stream.plugins.mmagic.images import is_bgr
from degrade_stream.plugins.mmagic.imports import import_mmagic

import_mmagic()

from mmagic.models import DataPreprocessor  # noqa: E402
from mmagic.registry import MODELS  # noqa: E402


@MODELS.register_module()
class DegradeStreamDataPreprocessor(DataPreprocessor):
    """DataPreprocessor + batched LQ synthesis from ``gt_img``.

    Args:
        config: a shipped chain name, a chain YAML path, or a chain dict.
        seed: the run seed. scale: if given, must equal the chain's scale.
        synthesize: 'train' (default: make LQ in training batches; evaluation batches keep their
            own ``inputs``) or 'always'.
        **kwargs: DataPreprocessor's arguments (mean, std, output_channel_order, ...).
    """

    def __init__(self, config: Any, seed: int = 0, scale: int | None = None, synthesize: str = "train",
                 **kwargs: Any) -> None:
        chain = chain_from_option(config, "data_preprocessor.config")
        check_scale(chain, scale, "data_preprocessor.scale")
        seed = canonical_seed(seed, "data_preprocessor.seed")  # any integer, reduced modulo 2**64
        if synthesize not in ("train", "always"):
            raise ValueError(f"data_preprocessor.synthesize: expected 'train' or 'always', got {synthesize!r}")
        super().__init__(**kwargs)
        self.chain, self.seed, self.synthesize = chain, seed, synthesize
        self._chain_device: torch.device | None = None
        self._passes: dict[str, int] = {}

    def forward(self, data: dict, training: bool = False) -> dict:
        if training or self.synthesize == "always":
            data = self.synthesize_inputs(self.cast_data(data))
        return super().forward(data, training)

    def synthesize_inputs(self, data: dict) -> dict:
        """Replace ``data['inputs']`` by the chain's LQ of the GT in ``data['data_samples']``."""
        samples = data.get("data_samples")
        if not samples or not all(hasattr(s, "gt_img") for s in samples):
            raise KeyError("DegradeStreamDataPreprocessor needs the GT in every data sample (gt_img): load it "
                           "with LoadImageFromFile(key='gt') and pack it with PackInputs")
        gts = [s.gt_img for s in samples]
        sizes = {tuple(g.shape) for g in gts}
        if len(sizes) != 1:
            raise ValueError(f"DegradeStreamDataPreprocessor: GT images of one batch must share a size "
                             f"(crop them in the pipeline), got {sorted(sizes)}")
        order = self._parse_batch_channel_order("gt_img", gts, samples)
        if order.lower() not in ("rgb", "bgr"):
            raise ValueError(f"DegradeStreamDataPreprocessor: GT must be colour (RGB/BGR), got channel order {order!r}")
        bgr = is_bgr(order)
        hq = torch.stack(gts).to(torch.float32) / 255.0
        hq = hq.flip(1) if bgr else hq
        if self._chain_device != hq.device:
            self.chain.to(hq.device)
            self._chain_device = hq.device
        # GT comes from image files, so in [0, 1]: no boundary check, whose min/max would sync the device
        lq = self.chain(hq.clamp(0.0, 1.0), seed=self._seeds(samples, hq), check=False).lq
        data["inputs"] = (lq.flip(1) if bgr else lq) * 255.0
        for sample in samples:
            sample.set_metainfo({"img_channel_order": order})
        return data

    def _seeds(self, samples: list, hq: Tensor) -> Tensor:
        """Each sample's seed for this visit of its ``key`` (else ``gt_path``) metainfo, counted in this process."""
        keys = [s.metainfo.get("key", s.metainfo.get("gt_path")) for s in samples]
        return visit_seeds(self.seed, keys, hq, self._passes)
