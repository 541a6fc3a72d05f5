"""BSRGAN's random-shuffle degradation (Zhang, Liang, Van Gool, Timofte, ICCV 2021, Sec. 3 and Fig. 2), with every
choice drawn per sample.

Reference: cszn/KAIR ``utils/utils_blindsr.py`` ``degradation_bsrgan`` (commit 5480229), re-written from its
algorithm (no code copied). The input is cropped to a multiple of the scale (KAIR's mod crop). With p 0.25 (scale 4
only) a pre-halving: half the time ``cv2.resize`` with a random INTER_LINEAR/INTER_CUBIC/INTER_AREA, else MATLAB's
anti-aliased bicubic ``imresize``. Then a per-sample random order of: blur, blur (50% anisotropic Gaussian, size
2 U{2..11} + 3, angle U(0, pi), eigenvalues U(0, 4 + sf); else isotropic, std U(0, 2 + 0.2 sf)), downsample (75%
``cv2.resize`` by 1/U(1, 2 sf) with a random mode; else a 25-tap Gaussian, std U(0.1, 0.6 sf), shifted by (sf - 1)/2
with ``shift_pixel``'s bilinear resampling, then every sf-th pixel), the resize to 1/sf of the size before that
downsample (always after it, random mode), Gaussian noise (level U{2..25}/255: 40% colour, 40% gray, 20%
channel-correlated) and JPEG q U{30..95} with p 0.9; then a final JPEG q U{30..95}; round to 8 bit.

As the reference: resizes are OpenCV's (``opencv_resize.py``: INTER_LINEAR and INTER_CUBIC do not anti-alias,
INTER_AREA does) and MATLAB's (``matlab_resize.py``); JPEG is libjpeg's through Pillow (``jpeg_pillow.py``, the same
bytes as ``cv2.imencode``; ``jpeg: libjpeg`` picks the batched ``jpeg.py`` instead, which stays on the device).
Deviations: the camera ISP step (p 0.25) is left out, its model was never released; no final random crop (a data
loader's job). Sizes change per sample in a per-sample order, so the model runs sample by sample after drawing all
parameters (and building all kernels) for the batch at once.
"""
from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import Tensor

from ..core import salts
from ..core.params import select_params
from ..core.random import derive_seeds
from ..core.registry import register
from ..core.transform import Params
from ..core.validate import Choice
from .blur_kernels import crop_kernel
from .bsrgan_kernels import blur_inv_cov, correlated_noise_matrices, gaussian_kernels, shifted_downsample_kernels
from .filtering import filter_per_sample
from .jpeg import jpeg_compress
from .jpeg_pillow import pillow_jpeg
from .matlab_resize import matlab_resize
from .model_base import DegradationModel, Scale
from .noise import normal_fields
from .opencv_resize import CV2_MODES, opencv_resize

BLUR_PAD = 25  # BSRGAN's largest blur kernel: 2*11 + 3
SHIFT_KERNEL = 25  # the shifted Gaussian of downsample2
BLUR, BLUR2, DOWN, DOWN_FINAL, NOISE, JPEG = 0, 1, 2, 3, 4, 5  # op ids (the ISP op, 6, is omitted)
MATLAB = len(CV2_MODES)  # the pre-halving's fourth choice: MATLAB imresize
JPEG_CODECS = ("pillow", "libjpeg")


@register("bsrgan")
class BSRGAN(DegradationModel):
    """BSRGAN degradation: random per-sample order of blurs, downsamplings, noise and JPEG."""

    def __init__(self, scale: Scale = 4, resize_back: bool = False,
                 jpeg: Annotated[str, Choice(JPEG_CODECS)] = "pillow") -> None:
        self._set_scale(scale, resize_back)
        self.jpeg = jpeg

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        self.lq_size(batch)
        rng = self.random(seeds, batch)
        prehalve = rng.bernoulli(0.25 if self.lq_scale == 4 else 0.0)
        sf = torch.where(prehalve, 2.0, float(self.lq_scale))  # (B,) the scale left after any pre-halving
        # order: a random permutation of the 6 ops, with DOWN moved before DOWN_FINAL
        order = rng.permutation(6)
        pos_down = (order == DOWN).float().argmax(1, keepdim=True)
        pos_final = (order == DOWN_FINAL).float().argmax(1, keepdim=True)
        swap = pos_down > pos_final
        order = order.scatter(1, pos_down, torch.where(swap, DOWN_FINAL, DOWN))
        order = order.scatter(1, pos_final, torch.where(swap, DOWN, DOWN_FINAL))
        sf_col = sf[:, None]  # (B, 1), against the two blurs' (B, 2) draws
        return {
            "prehalve": prehalve,
            "prehalve_mode": rng.categorical([1 / 6, 1 / 6, 1 / 6, 1 / 2]),  # 50% a random cv2 mode, 50% MATLAB
            "order": order,
            "blur_aniso": rng.bernoulli(0.5, 2),
            "blur_size": 2 * rng.randint(2, 11, 2) + 3,
            "blur_theta": rng.uniform(2, high=math.pi),
            "blur_l1": rng.uniform(2) * (4.0 + sf_col),
            "blur_l2": rng.uniform(2) * (4.0 + sf_col),
            "blur_sigma": rng.uniform(2) * (2.0 + 0.2 * sf_col),
            "down_resize": rng.bernoulli(0.75),
            "down_factor": 1.0 + rng.uniform() * (2.0 * sf - 1.0),
            "down_mode": rng.randint(0, 2),
            "down_sigma": 0.1 + rng.uniform() * (0.6 * sf - 0.1),
            "final_mode": rng.randint(0, 2),
            "noise_level": rng.randint(2, 25).float(),
            "noise_type": rng.categorical([0.4, 0.4, 0.2]),
            "noise_d": rng.uniform(3),
            "noise_m": rng.uniform(3, 3),
            "noise_seed": derive_seeds(seeds, salts.NOISE_FIELD),
            "jpeg_on": rng.bernoulli(0.9),
            "jpeg_q": rng.randint(30, 95).float(),
            "final_q": rng.randint(30, 95).float(),
        }

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        self.lq_size(batch)
        b, dev = batch.shape[0], batch.device
        h, w = batch.shape[-2:]
        cropped = batch[..., :h - h % self.lq_scale, :w - w % self.lq_scale]  # KAIR's mod crop
        blur_inv = blur_inv_cov(*(params[k].reshape(-1) for k in ("blur_aniso", "blur_theta", "blur_l1", "blur_l2",
                                                                   "blur_sigma")))
        blur_kernels = gaussian_kernels(blur_inv, params["blur_size"].reshape(-1), BLUR_PAD)
        blur_kernels = blur_kernels.reshape(b, 2, BLUR_PAD, BLUR_PAD)  # each sample's two blurs
        sf = torch.where(params["prehalve"], 2.0, float(self.lq_scale)).to(dev)
        shift_kernels = shifted_downsample_kernels(params["down_sigma"].to(dev), sf, SHIFT_KERNEL)
        noise_mix = correlated_noise_matrices(params["noise_level"], params["noise_type"], params["noise_d"],
                                              params["noise_m"])
        on_host = {k: params[k].tolist() for k in ("prehalve", "prehalve_mode", "order", "blur_size", "down_resize",
                                                     "down_factor", "down_mode", "final_mode", "jpeg_on")}
        outs = []
        for i in range(b):
            one = {k: v[i] for k, v in on_host.items()}
            outs.append(self._degrade_one(cropped[i:i + 1], select_params(params, slice(i, i + 1)), one,
                                          blur_kernels[i], shift_kernels[i:i + 1], noise_mix[i:i + 1].to(dev)))
        return self.finish(torch.cat(outs), batch)

    def _degrade_one(self, x: Tensor, params: Params, on_host: dict, blur_kernels: Tensor, shift_kernel: Tensor,
                     noise_mix: Tensor) -> Tensor:
        """One sample (1, C, H, W) through its pre-halving, its order of ops and the final JPEG; ``on_host``: its
        host-side choices, ``blur_kernels`` (2, 25, 25) its two blurs, ``shift_kernel`` and ``noise_mix`` its own."""
        sf = self.lq_scale
        if on_host["prehalve"]:
            x = self._prehalve(x, on_host["prehalve_mode"])
            sf = 2
        before_down = x.shape[-2:]
        for op in on_host["order"]:
            if op in (BLUR, BLUR2):
                x = filter_per_sample(x, crop_kernel(blur_kernels[op:op + 1], on_host["blur_size"][op]))
            elif op == DOWN:
                before_down = x.shape[-2:]
                x = self._downsample(x, on_host, shift_kernel, sf)
            elif op == DOWN_FINAL:  # cv2.resize to (int(1/sf * a), int(1/sf * b)) of the size before DOWN
                size = (max(1, int(1 / sf * before_down[0])), max(1, int(1 / sf * before_down[1])))
                x = opencv_resize(x, size, CV2_MODES[on_host["final_mode"]])
            elif op == NOISE:
                field = normal_fields(params["noise_seed"], tuple(x.shape[1:]), x)
                x = x + torch.einsum("bij,bjhw->bihw", noise_mix.to(x.dtype), field)
            elif op == JPEG and on_host["jpeg_on"]:
                x = self._jpeg(x, params["jpeg_q"])
            x = x.clamp(0.0, 1.0)
        return self._jpeg(x, params["final_q"])

    @staticmethod
    def _prehalve(x: Tensor, mode: int) -> Tensor:
        """KAIR's downsample1: ``cv2.resize`` to (int(w/2), int(h/2)) with a cv2 mode, or MATLAB imresize(1/2)."""
        if mode == MATLAB:
            return matlab_resize(x, 0.5).clamp(0.0, 1.0)
        return opencv_resize(x, (int(x.shape[-2] / 2), int(x.shape[-1] / 2)), CV2_MODES[mode]).clamp(0.0, 1.0)

    @staticmethod
    def _downsample(x: Tensor, on_host: dict, shift_kernel: Tensor, sf: int) -> Tensor:
        """KAIR's downsample2: ``cv2.resize`` by 1/f (75%) or the shifted Gaussian and every sf-th pixel."""
        if on_host["down_resize"]:
            factor = on_host["down_factor"]
            size = (max(1, int(1 / factor * x.shape[-2])), max(1, int(1 / factor * x.shape[-1])))
            return opencv_resize(x, size, CV2_MODES[on_host["down_mode"]])
        return filter_per_sample(x, shift_kernel.to(x.dtype))[..., ::sf, ::sf]

    def _jpeg(self, x: Tensor, quality: Tensor) -> Tensor:
        if self.jpeg == "pillow":
            return pillow_jpeg(x, quality)
        return jpeg_compress(x, quality)
