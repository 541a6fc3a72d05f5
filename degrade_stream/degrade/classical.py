"""The classical degradation model y = JPEG((x * k) downsampled by s + n) (the paper's refs [23, 51];
Real-ESRGAN paper Eq. 1 and Sec. 3.1), fully batched: every size is common to the batch.

Ranges (documented in docs/degradations.md, taken from Real-ESRGAN's first-order x4plus options): Gaussian blur,
isotropic or anisotropic (probabilities 0.7 / 0.3, the iso:aniso ratio of Real-ESRGAN's kernel_prob),
sigma in [0.2, 3], kernel 7..21; bicubic downsampling by ``scale``; Gaussian noise sigma in [1, 25]/255,
gray with p 0.4; JPEG quality in [30, 95]; rounded to 8 bit.
"""
from __future__ import annotations

from typing import Annotated

import torch
from torch import Tensor

from ..core import salts
from ..core.registry import register
from ..core.transform import Params
from ..core.validate import Choice
from .blur_kernels import build_blur_kernels, crop_kernel, sample_blur_params
from .filtering import filter_per_sample
from .jpeg import jpeg_compress
from .model_base import DegradationModel, Scale
from .noise import add_gaussian_noise, sample_gaussian_noise
from .resize import MODES, resize_per_sample
from .settings import (KERNEL_PAD, BlurSettings, GaussianWeights, JpegRange, KernelRange, NoiseRange, NoiseSettings,
                       Prob, ShapeRange)


@register("classical")
class Classical(DegradationModel):
    """Blur, downsample, Gaussian noise, JPEG, with every level drawn per sample."""

    def __init__(self, scale: Scale = 4, resize_back: bool = False, kernel_range: KernelRange = (7, 21),
                 iso_aniso_prob: GaussianWeights = (0.7, 0.3), blur_sigma: ShapeRange = (0.2, 3.0),
                 resize_mode: Annotated[str, Choice(MODES)] = "bicubic", noise_range: NoiseRange = (1.0, 25.0),
                 gray_noise_prob: Prob = 0.4, jpeg_range: JpegRange = (30.0, 95.0)) -> None:
        self._set_scale(scale, resize_back)
        self.blur = BlurSettings.of_gaussian(kernel_range, iso_aniso_prob, blur_sigma)
        self.resize_mode = resize_mode
        self.noise = NoiseSettings(gaussian_prob=1.0, sigma_range=noise_range, poisson_range=(0.0, 0.0),
                                   gray_prob=gray_noise_prob)
        self.jpeg_range = jpeg_range

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        self.lq_size(batch)
        rng = self.random(seeds, batch)
        return {"blur": sample_blur_params(rng.fork(salts.BLUR_KERNEL), self.blur),
                **sample_gaussian_noise(rng, seeds, salts.NOISE_FIELD, self.noise),
                "jpeg": rng.uniform(low=self.jpeg_range[0], high=self.jpeg_range[1])}

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        size = self.lq_size(batch)
        # the stage's largest kernel size, not the batch's: a sample's arithmetic does not depend on its batch-mates
        kernels = build_blur_kernels(params["blur"], KERNEL_PAD)
        x = filter_per_sample(batch, crop_kernel(kernels, self.blur.size_range[1]))
        mode = torch.full((batch.shape[0],), MODES.index(self.resize_mode), dtype=torch.int64)
        x = resize_per_sample(x, size, mode)
        x = add_gaussian_noise(x, params["sigma"], params["gray"], params["noise_seed"])
        x = jpeg_compress(x, params["jpeg"])
        return self.finish(x, batch)
