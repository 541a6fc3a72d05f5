"""Real-ESRGAN's own degradation, run through BasicSR 1.4.2 for the distribution tests: the kernels from
``RealESRGANDataset.__getitem__`` and the LQ from ``RealESRGANModel.feed_data``, on the CPU, with the global
``random`` / ``numpy`` / ``torch`` generators seeded once. Nothing is re-implemented: the model's ``feed_data`` is
called on a stand-in object holding what it reads (``opt``, ``is_train``, ``device``, the USM sharpener and
DiffJPEG, built on the CPU instead of ``.cuda()``), with the training-pair queue (``_dequeue_and_enqueue``) left out
and ``gt_size`` = the HQ size, so its random crop keeps the whole image. The sharpened GT is computed once per HQ
tensor (USM is deterministic), only to save time.

``options`` is a flat dict of the degradation keys (``reference_options.flat``); ``sharpen=False`` replaces the
USM by the identity (the release's degradation, ``reference_release.py``, builds on this class).
"""
from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping

import numpy as np
import torch
from PIL import Image

from reference_options import RELEASE as RELEASE_NESTED
from reference_options import flat, read

X4PLUS = flat(read())
RELEASE = flat(RELEASE_NESTED)


class BasicSRRealESRGAN:
    """Draws LQ images from BasicSR's Real-ESRGAN pipeline for HQ tensors of one size."""

    def __init__(self, folder: Path, options: Mapping[str, Any] = X4PLUS, sharpen: bool = True, seed: int = 0) -> None:
        from basicsr.data.realesrgan_dataset import RealESRGANDataset
        from basicsr.utils import DiffJPEG, USMSharp

        Image.new("RGB", (8, 8)).save(folder / "tiny.png")  # the dataset must read a file; only its kernels are used
        (folder / "meta_info.txt").write_text("tiny.png\n")
        dataset_opt = {key: options[key] for key in options if key in _DATASET_KEYS}
        self.dataset = RealESRGANDataset({**dataset_opt, "io_backend": {"type": "disk"}, "dataroot_gt": str(folder),
                                          "meta_info": str(folder / "meta_info.txt"), "use_hflip": False,
                                          "use_rot": False})
        self.options = dict(options)
        self.sharpener = _Memo(USMSharp()) if sharpen else (lambda x: x)
        self.jpeger = DiffJPEG(differentiable=False)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def __call__(self, hq: torch.Tensor) -> torch.Tensor:
        """(1, 3, H, W) HQ -> (1, 3, H/4, W/4) LQ, one draw of the reference's random choices."""
        from basicsr.models.realesrgan_model import RealESRGANModel

        data = self.dataset[0]
        data["gt"] = hq
        for key in ("kernel1", "kernel2", "sinc_kernel"):
            data[key] = data[key][None]
        stand_in = SimpleNamespace(is_train=True, device=torch.device("cpu"), usm_sharpener=self.sharpener,
                                   jpeger=self.jpeger, opt={**self.options, "gt_size": hq.shape[-1]},
                                   _dequeue_and_enqueue=lambda: None)
        RealESRGANModel.feed_data(stand_in, data)
        return stand_in.lq


class _Memo:
    """BasicSR's USMSharp, computed once per HQ tensor: it has no randomness, and the draws reuse a few images."""

    def __init__(self, usm: Any) -> None:
        self.usm = usm
        self.done: dict[int, torch.Tensor] = {}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        key = x.data_ptr()
        if key not in self.done:
            self.done[key] = self.usm(x)
        return self.done[key]


_DATASET_KEYS = {"blur_kernel_size", "kernel_list", "kernel_prob", "sinc_prob", "blur_sigma", "betag_range",
                 "betap_range", "blur_kernel_size2", "kernel_list2", "kernel_prob2", "sinc_prob2", "blur_sigma2",
                 "betag_range2", "betap_range2", "final_sinc_prob"}
