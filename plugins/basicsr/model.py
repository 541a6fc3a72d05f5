"""``DegradeStreamModel``: BasicSR's SRModel whose ``feed_data`` makes the LQ on the model's device.

As Real-ESRGAN's ``RealESRNetModel`` does, the DataLoader only loads HQ crops
(``DegradeStreamHQDataset``) and the degradation runs batched on the GPU; unlike it, nothing here
is degradation code, every choice is per sample (seeded by the dataset, so a sample's LQ does not
depend on the batch it lands in), and there is no ``.cuda()`` or global RNG.

Options (top level, beside ``model_type``): ``degrade_stream`` (a shipped chain name or a chain YAML
path; required), ``scale`` (must equal the chain's scale) and ``gt_usm`` (default false: true trains on the GT
sharpened by Real-ESRGAN's USM, as ``RealESRNetModel``'s ``gt_usm: true``; the LQ is made first, from the plain
GT). Validation batches that already hold
``lq`` (e.g. from ``PairedImageDataset``) are used as they are.
"""
from __future__ import annotations

from typing import Any

import torch

from degrade_stream.core import ConfigError
from degrade_stream.degrade.usm import usm_sharpen
from degrade_stream.plugins.chain_option import chain_from_option, check_scale
from degrade_stream.plugins.basicsr.registry import MODEL_REGISTRY

from basicsr.models.sr_model import SRModel  # noqa: E402  (after the registry's torchvision shim)


@MODEL_REGISTRY.register()
class DegradeStreamModel(SRModel):
    """SRModel + GPU pair synthesis in ``feed_data``."""

    def __init__(self, opt: dict[str, Any]) -> None:
        chain = chain_from_option(opt.get("degrade_stream"), "degrade_stream")  # fail before building nets
        check_scale(chain, opt.get("scale"))
        self.gt_usm = opt.get("gt_usm", False)
        if not isinstance(self.gt_usm, bool):
            raise ConfigError("gt_usm", f"expected true/false, got {self.gt_usm!r}")
        super().__init__(opt)
        self.chain = chain.to(self.device)

    @torch.no_grad()
    def feed_data(self, data: dict[str, Any]) -> None:
        if "lq" in data:  # a paired (validation) batch
            super().feed_data(data)
            return
        if "seed" not in data:
            raise KeyError("DegradeStreamModel needs per-sample seeds in each batch: use the dataset type "
                           "DegradeStreamHQDataset (or another dataset that returns 'gt' and 'seed')")
        self.gt = data["gt"].to(self.device, non_blocking=True)
        # The HQ comes from DegradeStreamHQDataset, already checked RGB in [0, 1]: skip the boundary
        # check, whose min/max would sync the device every iteration.
        self.lq = self.chain(self.gt, seed=data["seed"], check=False).lq.contiguous()
        if self.gt_usm:
            self.gt = usm_sharpen(self.gt)
