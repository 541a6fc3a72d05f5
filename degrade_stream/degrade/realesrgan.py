"""Real-ESRGAN's second-order degradation (Wang et al. 2021, "Real-ESRGAN", Sec. 3 and Fig. 2).

Reference: xinntao/Real-ESRGAN ``realesrgan/models/realesrgan_model.py`` ``feed_data`` (commit 35ee6f7; the same
in BasicSR 1.4.2 ``basicsr/models/realesrgan_model.py``) with the kernels of ``realesrgan/data/realesrgan_dataset.py``;
defaults are ``options/train_realesrgan_x4plus.yml``. Order of operations as ``feed_data``: [USM-sharpen the
input], blur, resize, noise, JPEG; [blur with p], resize, noise; then, in random order, [resize to 1/scale +
sinc] and JPEG; round to 8 bit. As the reference by default: resizes are ``F.interpolate`` without
anti-aliasing, the first one in its ``scale_factor`` form (``antialias: true``: torch's anti-aliased filters at
the size ratio, the behaviour before issue 22); JPEG is BasicSR's DiffJPEG (``diffjpeg.py``; ``jpeg: libjpeg``:
``jpeg.py``). Unlike BasicSR, every choice is per sample: resize direction, scale and mode, noise type and
gray-ness, second blur, final order and final resize mode. ``resize_back`` follows the paper authors' release
(yangxy/synthesizing_realistic_training_pairs ``dataloader/realesrgan.py`` ``degrade_process(resize_bak=True)``,
commit 75d6529): back to the input size with a random area/bilinear/bicubic mode, rounded once
(``resize_back_mode: bicubic``: round, bicubic back, round again, as before issue 22).

Intermediate sizes are continuous per sample: from the first resize to the final one the batch is a
ragged canvas (``canvas.py``), each sample valid in its top-left corner, resized by per-sample
interpolation matrices, and filled by reflection (blur) or edge replication (JPEG) where an operation
reads past its valid region (zeros for DiffJPEG, as its own padding). A sample's first-order canvas is the smallest of up to four extents fixed
by the config and the input size (``_extents``), so its arithmetic never depends on its batch-mates;
samples sharing an extent run as one group (at most four groups). Only Poisson noise, whose level count
depends on a sample's own pixels, loops over the samples that chose it.
"""
from __future__ import annotations

import math
from typing import Annotated

import torch
from kornia.filters import filter2d
from torch import Tensor

from ..core import salts
from ..core.params import select_params
from ..core.quantize import quantize8
from ..core.registry import register
from ..core.transform import Params
from ..core.validate import Choice
from ..option_files.stage_option import FromOptionFile
from . import canvas
from .blur_kernels import build_blur_kernels, sample_blur_params
from .filtering import filter_per_sample
from .diffjpeg import diffjpeg_compress
from .jpeg import jpeg_compress
from .model_base import DegradationModel, Scale
from .noise import add_noise_on_canvas, sample_noise
from .resize import MODES, resize, sample_resize_factor, scaled_size
from .settings import (KERNEL_PAD, BlurSettings, DirectionWeights, FactorRange, JpegRange, KernelRange, KindWeights,
                       NoiseRange, NoiseSettings, Prob, ResizeSettings, ShapeRange)
from .sinc_kernel import sinc_kernels
from .usm import usm_sharpen


#: JPEG implementations: BasicSR's DiffJPEG (Real-ESRGAN's) and the libjpeg-like ``jpeg.py``
JPEG_CODECS = ("diffjpeg", "libjpeg")
#: ``random``: the release's per-sample mode and one rounding; ``bicubic``: round, bicubic back, round (before issue 22)
RESIZE_BACK_MODES = ("random", "bicubic")


@register("realesrgan")
class RealESRGAN(FromOptionFile, DegradationModel):
    """Real-ESRGAN second-order degradation with every random choice drawn per sample; ``options: FILE`` in YAML
    reads a Real-ESRGAN / BasicSR options file (``option_files``)."""

    def __init__(self, scale: Scale = 4, resize_back: bool = False, sharpen_input: bool = True,
                 antialias: bool = False, jpeg: Annotated[str, Choice(JPEG_CODECS)] = "diffjpeg",
                 resize_back_mode: Annotated[str, Choice(RESIZE_BACK_MODES)] = "random",
                 kernel_range: KernelRange = (7, 21),
                 kernel_prob: KindWeights = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03),
                 sinc_prob: Prob = 0.1, blur_sigma: ShapeRange = (0.2, 3.0),
                 betag_range: ShapeRange = (0.5, 4.0), betap_range: ShapeRange = (1.0, 2.0),
                 resize_prob: DirectionWeights = (0.2, 0.7, 0.1), resize_range: FactorRange = (0.15, 1.5),
                 gaussian_noise_prob: Prob = 0.5, noise_range: NoiseRange = (1.0, 30.0),
                 poisson_scale_range: NoiseRange = (0.05, 3.0), gray_noise_prob: Prob = 0.4,
                 jpeg_range: JpegRange = (30.0, 95.0),
                 second_blur_prob: Prob = 0.8,
                 kernel_prob2: KindWeights = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03),
                 sinc_prob2: Prob = 0.1, blur_sigma2: ShapeRange = (0.2, 1.5),
                 betag_range2: ShapeRange = (0.5, 4.0), betap_range2: ShapeRange = (1.0, 2.0),
                 resize_prob2: DirectionWeights = (0.3, 0.4, 0.3), resize_range2: FactorRange = (0.3, 1.2),
                 gaussian_noise_prob2: Prob = 0.5, noise_range2: NoiseRange = (1.0, 25.0),
                 poisson_scale_range2: NoiseRange = (0.05, 2.5), gray_noise_prob2: Prob = 0.4,
                 jpeg_range2: JpegRange = (30.0, 95.0), final_sinc_prob: Prob = 0.8) -> None:
        self._set_scale(scale, resize_back)
        self.sharpen_input = sharpen_input
        self.antialias = antialias
        self.jpeg = jpeg
        self.resize_back_mode = resize_back_mode
        self.kernel_range = kernel_range
        self.blur1 = BlurSettings(kind_probs=kernel_prob, sinc_prob=sinc_prob, sigma_range=blur_sigma,
                                  betag_range=betag_range, betap_range=betap_range, size_range=kernel_range)
        self.blur2 = BlurSettings(kind_probs=kernel_prob2, sinc_prob=sinc_prob2, sigma_range=blur_sigma2,
                                  betag_range=betag_range2, betap_range=betap_range2, size_range=kernel_range)
        self.resize1 = ResizeSettings(direction_probs=resize_prob, factor_range=resize_range)
        self.resize2 = ResizeSettings(direction_probs=resize_prob2, factor_range=resize_range2)
        self.noise1 = NoiseSettings(gaussian_prob=gaussian_noise_prob, sigma_range=noise_range,
                                    poisson_range=poisson_scale_range, gray_prob=gray_noise_prob)
        self.noise2 = NoiseSettings(gaussian_prob=gaussian_noise_prob2, sigma_range=noise_range2,
                                    poisson_range=poisson_scale_range2, gray_prob=gray_noise_prob2)
        self.jpeg_range = jpeg_range
        self.jpeg_range2 = jpeg_range2
        self.second_blur_prob = second_blur_prob
        self.final_sinc_prob = final_sinc_prob

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        self.lq_size(batch)
        rng = self.random(seeds, batch)
        sinc_sizes = torch.arange(self.kernel_range[0], self.kernel_range[1] + 1, 2, device=rng.device)
        return {
            "blur1": sample_blur_params(rng.fork(salts.FIRST_BLUR), self.blur1),
            "scale1": sample_resize_factor(rng.fork(salts.FIRST_RESIZE), self.resize1),
            "mode1": rng.randint(0, 2),
            "noise1": sample_noise(rng.fork(salts.FIRST_NOISE), seeds, salts.NOISE_FIELD, self.noise1),
            "jpeg1": rng.uniform(low=self.jpeg_range[0], high=self.jpeg_range[1]),
            "blur2_on": rng.bernoulli(self.second_blur_prob),
            "blur2": sample_blur_params(rng.fork(salts.SECOND_BLUR), self.blur2),
            "scale2": sample_resize_factor(rng.fork(salts.SECOND_RESIZE), self.resize2),
            "mode2": rng.randint(0, 2),
            "noise2": sample_noise(rng.fork(salts.SECOND_NOISE), seeds, salts.SECOND_NOISE_FIELD, self.noise2),
            "jpeg_first": rng.bernoulli(0.5),
            "mode3": rng.randint(0, 2),
            "sinc_on": rng.bernoulli(self.final_sinc_prob),
            "sinc_omega": rng.uniform(low=math.pi / 3, high=math.pi),
            "sinc_size": sinc_sizes[rng.randint(0, len(sinc_sizes) - 1)],
            "jpeg2": rng.uniform(low=self.jpeg_range2[0], high=self.jpeg_range2[1]),
            "mode_back": rng.randint(0, 2),  # resize_back_mode "random": the release's mode of the resize back
        }

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        out_h, out_w = self.lq_size(batch)
        b, _, h, w = batch.shape
        dev = batch.device
        x = usm_sharpen(batch) if self.sharpen_input else batch
        # ----- first order: blur at the input size, then a ragged canvas from the per-sample resize on
        x = filter_per_sample(x, build_blur_kernels(params["blur1"], KERNEL_PAD))
        first_hw = self._first_sizes(params["scale1"], h, w)
        # Each sample's canvas is the smallest of a few extents fixed by the config and the input size that holds
        # it (never the batch's largest sample): every operation then has the same shape for a sample alone or
        # in any batch, and samples sharing an extent run as one group (at most len(extents) groups).
        extents = _extents(h, w, self.resize1.factor_range)
        extent_of = [next(k for k, ext in enumerate(extents) if hw[0] <= ext[0] and hw[1] <= ext[1])
                     for hw in first_hw]
        lq = x.new_empty(b, x.shape[1], out_h, out_w)
        for k in sorted(set(extent_of)):
            members = [i for i, e in enumerate(extent_of) if e == k]
            rows = torch.tensor(members, device=dev)
            lq[rows] = self._canvas_part(x[rows], select_params(params, members), [first_hw[i] for i in members],
                                         extents[k], (h, w))
        # ----- final, at the LQ size: per sample JPEG -> resize -> sinc (JPEG and resize done above),
        # or resize -> sinc -> JPEG
        jpeg_first = params["jpeg_first"].to(dev)[:, None, None, None]
        sinc = sinc_kernels(params["sinc_omega"], params["sinc_size"], KERNEL_PAD)
        x = filter_per_sample(lq, torch.where(params["sinc_on"].to(dev)[:, None, None], sinc, _pulse(b, dev)))
        x = torch.where(jpeg_first, x, self._jpeg(x, None, params["jpeg2"]))
        if self.resize_back and self.resize_back_mode == "random":
            return self._resize_back_once(x, params["mode_back"], (h, w))
        return self.finish(x, batch)

    def _first_sizes(self, scale1: Tensor, h: int, w: int) -> list[list[int]]:
        """Each sample's (h, w) after the first resize: what ``F.interpolate(scale_factor=s)`` gives (floor of
        h * s in float64; before issue 22, with ``antialias``, the float32 product), read on the host (the
        interpolation matrices need the sizes)."""
        if self.antialias:
            input_size = torch.tensor([h, w], device=scale1.device).expand(scale1.shape[0], 2)
            return (input_size * scale1[:, None]).floor().long().clamp_min(1).tolist()
        return [[scaled_size(h, s), scaled_size(w, s)] for s in scale1.tolist()]

    def _jpeg(self, x: Tensor, sizes: Tensor | None, quality: Tensor) -> Tensor:
        """The configured JPEG; on a canvas (``sizes``: each sample's valid (h, w)) the padding each codec uses:
        zeros for DiffJPEG, edge replication for libjpeg."""
        if self.jpeg == "diffjpeg":
            return diffjpeg_compress(x if sizes is None else canvas.fill(x, sizes, 0, "zeros"), quality)
        return jpeg_compress(x if sizes is None else canvas.fill(x, sizes, 0, "replicate"), quality)

    def _resize_back_once(self, lq: Tensor, mode: Tensor, size: tuple[int, int]) -> Tensor:
        """The release's resize back: each sample with its own area/bilinear/bicubic mode (``F.interpolate``),
        then one rounding to 8 bit."""
        out = lq.new_empty(lq.shape[0], lq.shape[1], *size)
        modes = mode.tolist()
        for m in sorted(set(modes)):
            rows = torch.tensor([i for i, v in enumerate(modes) if v == m], device=lq.device)
            out[rows] = resize(lq[rows], size, MODES[m], antialias=False)
        return quantize8(out)

    def _canvas_part(self, x: Tensor, params: Params, first_hw: list[list[int]], first_extent: tuple[int, int],
                     input_hw: tuple[int, int]) -> Tensor:
        """From the first resize to the final one, on canvases of ``first_extent`` and then of the second-order
        bound; ``first_hw`` is each sample's (h, w) after the first resize."""
        (h, w), (out_h, out_w) = input_hw, (input_hw[0] // self.lq_scale, input_hw[1] // self.lq_scale)
        b, dev, aa = x.shape[0], x.device, self.antialias
        first_size = torch.tensor(first_hw, device=dev).reshape(b, 2)
        scales = None if aa else params["scale1"].tolist()  # Real-ESRGAN: F.interpolate(scale_factor=s)
        x = canvas.resize(x, [[h, w]] * b, first_hw, params["mode1"].tolist(), first_extent, aa, scales)
        x = add_noise_on_canvas(x, first_hw, params["noise1"], first_extent)
        x = self._jpeg(x, first_size, params["jpeg1"])
        # ----- second order
        second_kernels = torch.where(params["blur2_on"].to(dev)[:, None, None],
                                     build_blur_kernels(params["blur2"], KERNEL_PAD), _pulse(b, dev))
        x = filter2d(canvas.fill(x, first_size, KERNEL_PAD // 2, "reflect"), second_kernels.to(x.dtype),
                     padding="valid")
        second_hw = self._second_sizes(params["scale2"], h, w)
        second_size = torch.tensor(second_hw, device=dev).reshape(b, 2)
        second_extent = _bound(h / self.lq_scale, w / self.lq_scale, max(1.0, self.resize2.factor_range[1]))
        x = canvas.resize(x, first_hw, second_hw, params["mode2"].tolist(), second_extent, aa)
        x = add_noise_on_canvas(x, second_hw, params["noise2"], second_extent)
        jpeg_first = params["jpeg_first"].to(dev)[:, None, None, None]
        x = torch.where(jpeg_first, self._jpeg(x, second_size, params["jpeg2"]), x)
        return canvas.resize(x, second_hw, [[out_h, out_w]] * b, params["mode3"].tolist(), (out_h, out_w), aa)

    def _second_sizes(self, scale2: Tensor, h: int, w: int) -> list[list[int]]:
        """(h, w) after the second resize: Real-ESRGAN's int(ori_h / scale * s), in float64 (float32 before
        issue 22, kept with ``antialias``)."""
        if self.antialias:
            lq_exact = torch.tensor([h / self.lq_scale, w / self.lq_scale], device=scale2.device)
            return (lq_exact[None] * scale2[:, None]).floor().long().clamp_min(1).tolist()
        return [[max(1, int(h / self.lq_scale * s)), max(1, int(w / self.lq_scale * s))] for s in scale2.tolist()]


def _pulse(b: int, device: torch.device) -> Tensor:
    """(B, 21, 21) identity kernels (BasicSR's ``pulse_tensor``)."""
    pulse = torch.zeros(b, KERNEL_PAD, KERNEL_PAD, device=device)
    pulse[:, KERNEL_PAD // 2, KERNEL_PAD // 2] = 1.0
    return pulse


def _ceil16(n: int) -> int:
    return -(-n // 16) * 16


def _extents(h: int, w: int, resize_range: tuple[float, float]) -> list[tuple[int, int]]:
    """The canvas extents of the first-order canvas, smallest first: bounds for resize factors up to 0.5,
    0.75, 1 and the config's largest (a sample uses the first that holds it)."""
    top = max(1.0, resize_range[1])
    factors = sorted({f for f in (0.5, 0.75, 1.0) if f < top} | {top})
    return [_bound(h, w, f) for f in factors]


def _bound(h: float, w: float, factor: float) -> tuple[int, int]:
    """The canvas for inputs (h, w) resized by at most ``factor`` (from the config): the largest size any
    sample can reach, rounded up to JPEG's 16-pixel macroblocks; it depends on the config, never the batch."""
    return _ceil16(int(h * factor) + 1), _ceil16(int(w * factor) + 1)
