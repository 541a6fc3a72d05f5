"""The paper authors' release, for the distribution tests: yangxy/synthesizing_realistic_training_pairs
``dataloader/realesrgan.py`` ``RealESRGAN_degradation.degrade_process`` (commit 75d6529). That package is not
installable, so this path is written here from its published algorithm (no code copied), on BasicSR 1.4.2's own
primitives (the same ones the release imports): kernels as BasicSR's ``RealESRGANDataset`` draws them (the
release's ``random_kernels`` is the same algorithm), ``filter2D``, ``random_add_gaussian_noise_pt`` /
``random_add_poisson_noise_pt``, ``DiffJPEG(differentiable=False)``, ``F.interpolate``, the global generators.

Steps: [USM of the input: commented out in the release; ``sharpen=True`` puts it back, as Real-ESRGAN], blur,
resize by a random factor (``scale_factor``), noise, clamp, JPEG; second blur with p, resize to the LQ size times a
random factor, noise; then with p 0.5 [resize to LQ + sinc, clamp, JPEG] else [clamp, JPEG, resize to LQ + sinc];
with ``resize_back`` a random area/bilinear/bicubic resize back to the HQ size; clamp and round once.
"""
from __future__ import annotations

import random
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from reference_realesrgan import BasicSRRealESRGAN

MODES = ["area", "bilinear", "bicubic"]


def _random_scale(probs: list[float], low_high: list[float]) -> float:
    direction = random.choices(["up", "down", "keep"], probs)[0]
    if direction == "up":
        return np.random.uniform(1, low_high[1])
    if direction == "down":
        return np.random.uniform(low_high[0], 1)
    return 1.0


def _noise(x: torch.Tensor, opt: Mapping[str, Any], suffix: str) -> torch.Tensor:
    from basicsr.data.degradations import random_add_gaussian_noise_pt, random_add_poisson_noise_pt

    gray = opt["gray_noise_prob" + suffix]
    if np.random.uniform() < opt["gaussian_noise_prob" + suffix]:
        return random_add_gaussian_noise_pt(x, sigma_range=opt["noise_range" + suffix], clip=True, rounds=False,
                                            gray_prob=gray)
    return random_add_poisson_noise_pt(x, scale_range=opt["poisson_scale_range" + suffix], gray_prob=gray, clip=True,
                                       rounds=False)


class ReleaseDegradation(BasicSRRealESRGAN):
    """Draws LQ images as the release's ``degrade_process`` (kernels and generators as BasicSRRealESRGAN)."""

    def __init__(self, folder: Any, options: Mapping[str, Any], resize_back: bool = False, **kwargs: Any) -> None:
        # the release has no blur_kernel_size keys; BasicSR's dataset reads them and never uses them (sizes 7..21)
        super().__init__(folder, {"blur_kernel_size": 21, "blur_kernel_size2": 21, **options}, **kwargs)
        self.resize_back = resize_back

    @torch.no_grad()
    def __call__(self, hq: torch.Tensor) -> torch.Tensor:
        from basicsr.utils.img_process_util import filter2D

        data = self.dataset[0]
        kernel1, kernel2, sinc = (data[k][None] for k in ("kernel1", "kernel2", "sinc_kernel"))
        opt, (h, w) = self.options, hq.shape[-2:]
        out = filter2D(self.sharpener(hq), kernel1)
        out = F.interpolate(out, scale_factor=_random_scale(opt["resize_prob"], opt["resize_range"]),
                            mode=random.choice(MODES))
        out = self._jpeg(_noise(out, opt, ""), opt["jpeg_range"])
        if np.random.uniform() < opt["second_blur_prob"]:
            out = filter2D(out, kernel2)
        factor = _random_scale(opt["resize_prob2"], opt["resize_range2"])
        out = F.interpolate(out, size=(int(h / 4 * factor), int(w / 4 * factor)), mode=random.choice(MODES))
        out = _noise(out, opt, "2")
        if np.random.uniform() < 0.5:
            out = filter2D(F.interpolate(out, size=(h // 4, w // 4), mode=random.choice(MODES)), sinc)
            out = self._jpeg(out, opt["jpeg_range2"])
        else:
            out = self._jpeg(out, opt["jpeg_range2"])
            out = filter2D(F.interpolate(out, size=(h // 4, w // 4), mode=random.choice(MODES)), sinc)
        if self.resize_back:
            out = F.interpolate(out, size=(h, w), mode=random.choice(MODES))
        return torch.clamp((out * 255.0).round(), 0, 255) / 255.0

    def _jpeg(self, x: torch.Tensor, quality_range: list[float]) -> torch.Tensor:
        quality = x.new_zeros(x.size(0)).uniform_(*quality_range)
        return self.jpeger(torch.clamp(x, 0, 1), quality=quality)
