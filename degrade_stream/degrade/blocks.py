"""Building-block stages, for composing your own degradation in YAML from the same batched kernels as
the models: ``blur``, ``resize``, ``noise``, ``jpeg``, ``usm``, ``round8``. Every random choice is
drawn per sample; defaults are Real-ESRGAN's first-order x4plus ranges."""
from __future__ import annotations

from typing import Annotated

import torch
from torch import Tensor

from ..core import salts
from ..core.quantize import quantize8
from ..core.registry import register
from ..core.transform import Params, Transform
from ..core.validate import Bounds, Weights
from .blur_kernels import build_blur_kernels, crop_kernel, sample_blur_params
from .filtering import filter_per_sample
from .jpeg import jpeg_compress
from .noise import add_noise_on_canvas, sample_noise
from .resize import resize_per_sample
from .settings import (KERNEL_PAD, BlurSettings, JpegRange, KernelRange, KindWeights, NoiseRange, NoiseSettings,
                       Prob, ShapeRange)
from .usm import usm_sharpen


def _where_on(on: Tensor, result: Tensor, batch: Tensor) -> Tensor:
    """The stage's ``result`` for the samples whose flag ``on`` ((B,) bool) is set, the input ``batch`` for the rest."""
    return torch.where(on.to(result.device)[:, None, None, None], result, batch)


@register("blur")
class Blur(Transform):
    """With probability ``prob``, blur each sample with its own random Real-ESRGAN kernel."""

    def __init__(self, prob: Prob = 1.0, kernel_range: KernelRange = (7, 21),
                 kernel_prob: KindWeights = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03), sinc_prob: Prob = 0.1,
                 blur_sigma: ShapeRange = (0.2, 3.0), betag_range: ShapeRange = (0.5, 4.0),
                 betap_range: ShapeRange = (1.0, 2.0)) -> None:
        self.prob = prob
        self.kernel = BlurSettings(kind_probs=kernel_prob, sinc_prob=sinc_prob, sigma_range=blur_sigma,
                                   betag_range=betag_range, betap_range=betap_range, size_range=kernel_range)

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        rng = self.random(seeds, batch)
        return {"on": rng.bernoulli(self.prob), "kernel": sample_blur_params(rng.fork(salts.BLUR_KERNEL), self.kernel)}

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        # always the stage's largest size (never the batch's): a sample's convolution is the same alone or in any batch
        kernels = build_blur_kernels(params["kernel"], KERNEL_PAD)
        blurred = filter_per_sample(batch, crop_kernel(kernels, self.kernel.size_range[1]))
        return _where_on(params["on"], blurred, batch)


@register("resize")
class Resize(Transform):
    """Downscale by the integer ``scale`` (output H//scale x W//scale) with a per-sample random mode."""

    def __init__(self, scale: Annotated[int, Bounds(low=1, high=16)] = 2,
                 mode_prob: Annotated[tuple[float, float, float], Weights(3)] = (1 / 3, 1 / 3, 1 / 3)) -> None:
        self.scale = scale
        self.mode_prob = mode_prob  # area, bilinear, bicubic

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        return {"mode": self.random(seeds, batch).categorical(list(self.mode_prob))}

    @property
    def min_input_side(self) -> int:
        """One output pixel per side."""
        return self.scale

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        h, w = batch.shape[-2:]
        if h < self.scale or w < self.scale:
            raise ValueError(f"resize: input {h}x{w} is too small for scale {self.scale}: "
                             f"needs at least {self.scale}x{self.scale}")
        return resize_per_sample(batch, (h // self.scale, w // self.scale), params["mode"])


@register("noise")
class Noise(Transform):
    """Gaussian (p ``gaussian_noise_prob``) or Poisson noise, gray with p ``gray_noise_prob``, per sample."""

    def __init__(self, gaussian_noise_prob: Prob = 0.5, noise_range: NoiseRange = (1.0, 30.0),
                 poisson_scale_range: NoiseRange = (0.05, 3.0), gray_noise_prob: Prob = 0.4) -> None:
        self.noise = NoiseSettings(gaussian_prob=gaussian_noise_prob, sigma_range=noise_range,
                                   poisson_range=poisson_scale_range, gray_prob=gray_noise_prob)

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        return sample_noise(self.random(seeds, batch), seeds, salts.NOISE_FIELD, self.noise)

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        b, _, h, w = batch.shape
        return add_noise_on_canvas(batch, [[h, w]] * b, params, (h, w))


@register("jpeg")
class JPEG(Transform):
    """With probability ``prob``, JPEG-compress with a per-sample quality from ``jpeg_range``."""

    def __init__(self, jpeg_range: JpegRange = (30.0, 95.0), prob: Prob = 1.0) -> None:
        self.jpeg_range = jpeg_range
        self.prob = prob

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        rng = self.random(seeds, batch)
        return {"on": rng.bernoulli(self.prob), "quality": rng.uniform(low=self.jpeg_range[0], high=self.jpeg_range[1])}

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        return _where_on(params["on"], jpeg_compress(batch, params["quality"]), batch)


@register("usm")
class USM(Transform):
    """Real-ESRGAN's unsharp masking (deterministic): weight 0.5, threshold 10, 51-tap Gaussian."""

    def __init__(self, weight: Annotated[float, Bounds(low=0.0)] = 0.5,
                 threshold: Annotated[float, Bounds(low=0.0)] = 10.0) -> None:
        self.weight = weight
        self.threshold = threshold

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        return usm_sharpen(batch, self.weight, self.threshold)


@register("round8")
class Round8(Transform):
    """Clamp to [0, 1] and round to 8-bit levels."""

    def __init__(self) -> None:
        pass

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        return quantize8(batch)
