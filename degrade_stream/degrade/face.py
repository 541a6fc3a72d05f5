"""The face degradation that GFPGAN, CodeFormer, GPEN, VQFR and RestoreFormer train with (registered as
``face``), with every choice per sample. Reference: TencentARC/GFPGAN gfpgan/data/ffhq_degradation_dataset.py
(``FFHQDegradationDataset.__getitem__``, commit be73d6d9a4d95e6a9684163a5e42bfda1990714e, as in gfpgan 1.3.8)
with options/train_gfpgan_v1.yml; the defaults are that file's values.

Steps, as the GFPGAN dataset: blur with a 41x41 isotropic or anisotropic Gaussian (p 0.5/0.5, sigma
U(0.1, 10), angle U(-pi, pi)); downsample by a factor U(0.8, 8) to (floor(h / f), floor(w / f)); Gaussian
noise of std U(0, 20)/255 (colour); JPEG with quality floor(U(60, 100)) (OpenCV takes an integer); resize
back to the input size; with p 0.3 shift each channel by U(-20, 20)/255; with p 0.01 convert to gray; with
p 0.3 GFPGAN's second colour jitter (``color_jitter_pt``: brightness U(0.5, 1.5), contrast U(0.5, 1.5),
saturation U(0, 1.5), hue U(-0.1, 0.1), in a random order; ``face_colour.py``); round to 8 bit.

Resizes: GFPGAN's ``cv2.resize(..., INTER_LINEAR)`` both ways is bilinear with half-pixel centres and no
anti-aliasing, which is ``interpolation_prob: [0, 1, 0]`` with ``antialias: false`` (the default). Other
choices stay available: each resize draws its interpolation (area, bilinear, bicubic) per sample from
``interpolation_prob``, and ``antialias: true`` low-pass filters bilinear/bicubic shrinks (torch's
anti-aliased filters); ``[1/3, 1/3, 1/3]`` with ``antialias: true`` is this stage's behaviour before it
followed GFPGAN's resizes.

CodeFormer (sczhou/CodeFormer basicsr/data/ffhq_blind_dataset.py, options/CodeFormer_stage3.yml) is the same
recipe with downsample [1, 12], noise [0, 15] and no colour steps (configs/chains/codeformer.yaml). Its "large"
ranges (sigma [1, 15], downsample [4, 30], noise [0, 20], JPEG [30, 80]) are used for a sample with
probability ``large_prob``: the large and the normal values are both drawn and the sample keeps one set
(CodeFormer's joint dataset makes one LQ of each kind per face; a per-sample probability is the mix a single
stream can give).

From the downsample to the resize back each sample lives on a ragged canvas (``canvas.py``): its LQ, of its
own continuous size, valid in the top-left corner of the smallest of a few extents fixed by the config and
the input size (``_extents``), so its arithmetic never depends on its batch-mates; noise and JPEG run on the
canvas, the two resizes per sample (``_resize_each``). The 41-tap blur runs by FFT, one transform per sample
(``fft_filter.py``).
"""
from __future__ import annotations

from typing import Annotated

import torch
from torch import Tensor

from ..core import salts
from ..core.params import select_params
from ..core.quantize import quantize8
from ..core.random import derive_seeds
from ..core.registry import register
from ..core.transform import Params, Transform
from ..core.validate import Bounds, Odd, Range, Weights
from ..option_files.stage_option import FromOptionFile
from . import canvas
from .blur_kernels import build_blur_kernels, sample_blur_params
from .face_colour import colour_jitter_pt, colour_shift, to_gray
from .fft_filter import filter_fft
from .jpeg import jpeg_compress
from .noise import add_noise_on_canvas
from .resize import MODES, resize
from .settings import KINDS, BlurSettings, GaussianWeights, JpegRange, Prob, ShapeRange

#: the LQ of the largest downsample must keep this many pixels per side
MIN_LQ_SIDE = 4

# The arguments' checks (core/validate.py).
KernelSize = Annotated[int, Bounds(low=1, high=81), Odd()]
DownsampleRange = Annotated[tuple[float, float], Range(low=0.1, high=64)]
NoiseRange8 = Annotated[tuple[float, float], Range(low=0, high=255)]  # 8-bit units
Factor = Annotated[tuple[float, float], Range(low=0)]  # torchvision's adjust_* bounds: factors >= 0
Hue = Annotated[tuple[float, float], Range(low=-0.5, high=0.5)]  # hue in [-0.5, 0.5]


def _gaussian_blur(kernel_size: int, iso_aniso_prob: tuple[float, float], sigma: tuple[float, float]) -> BlurSettings:
    """Iso/aniso Gaussian kernels of one odd size (GFPGAN's 41 is above the 21 of ``BlurSettings.gaussian``)."""
    return BlurSettings(kind_probs=tuple(iso_aniso_prob) + (0.0,) * (len(KINDS) - 2), sinc_prob=0.0,
                        sigma_range=sigma, size_range=(kernel_size, kernel_size))


@register("face")
class FaceDegradation(FromOptionFile, Transform):
    """GFPGAN's first-order face degradation (CodeFormer's with its ranges), LQ at the input size; ``options:
    FILE`` builds it from a GFPGAN options YAML (option_files/gfpgan.py)."""

    def __init__(self, kernel_size: KernelSize = 41, iso_aniso_prob: GaussianWeights = (0.5, 0.5),
                 blur_sigma: ShapeRange = (0.1, 10.0), downsample_range: DownsampleRange = (0.8, 8.0),
                 interpolation_prob: Annotated[tuple[float, float, float], Weights(3)] = (0.0, 1.0, 0.0),
                 antialias: bool = False,
                 noise_range: NoiseRange8 = (0.0, 20.0), jpeg_range: JpegRange = (60.0, 100.0),
                 color_jitter_prob: Prob = 0.3, color_jitter_shift: Annotated[float, Bounds(low=0, high=255)] = 20.0,
                 gray_prob: Prob = 0.01,
                 color_jitter_pt_prob: Prob = 0.3, brightness: Factor = (0.5, 1.5),
                 contrast: Factor = (0.5, 1.5), saturation: Factor = (0.0, 1.5),
                 hue: Hue = (-0.1, 0.1),
                 large_prob: Prob = 0.0, blur_sigma_large: ShapeRange = (1.0, 15.0),
                 downsample_range_large: DownsampleRange = (4.0, 30.0),
                 noise_range_large: NoiseRange8 = (0.0, 20.0),
                 jpeg_range_large: JpegRange = (30.0, 80.0)) -> None:
        self.kernel_size = kernel_size
        self.blur = _gaussian_blur(kernel_size, iso_aniso_prob, blur_sigma)
        self.blur_large = _gaussian_blur(kernel_size, iso_aniso_prob, blur_sigma_large)
        self.downsample = downsample_range
        self.downsample_large = downsample_range_large
        self.interpolation_prob = interpolation_prob  # area, bilinear, bicubic
        self.antialias = antialias
        self.noise = noise_range
        self.noise_large = noise_range_large
        self.jpeg = jpeg_range
        self.jpeg_large = jpeg_range_large
        self.color_jitter_prob = color_jitter_prob
        self.color_jitter_shift = color_jitter_shift
        self.gray_prob = gray_prob
        self.color_jitter_pt_prob = color_jitter_pt_prob
        self.jitter_pt = (brightness, contrast, saturation, hue)
        self.large_prob = large_prob

    def _largest_factor(self) -> float:
        return max(self.downsample[1], self.downsample_large[1] if self.large_prob > 0 else 0.0)

    @property
    def min_input_side(self) -> int:
        """The smallest input side: an LQ of MIN_LQ_SIDE px at the largest downsample factor (Chain.min_input_side)."""
        return int(-(-MIN_LQ_SIDE * self._largest_factor() // 1))

    def _check_size(self, batch: Tensor) -> tuple[int, int]:
        if batch.dim() != 4 or batch.shape[1] != 3:
            raise ValueError(f"face: expected a (B, 3, H, W) batch, got shape {tuple(batch.shape)}")
        h, w = batch.shape[-2:]
        need = self.min_input_side
        if min(h, w) < need:
            raise ValueError(f"face: input {h}x{w} is too small for a downsample factor up to "
                             f"{self._largest_factor():g}: needs at least {need}x{need} "
                             f"(an LQ of {MIN_LQ_SIDE}x{MIN_LQ_SIDE} or more)")
        return int(h), int(w)

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        self._check_size(batch)
        rng = self.random(seeds, batch)
        large = rng.bernoulli(self.large_prob)

        def pick(normal: tuple[float, float], big: tuple[float, float]) -> Tensor:
            return torch.where(large, rng.uniform(low=big[0], high=big[1]), rng.uniform(low=normal[0], high=normal[1]))

        blur = sample_blur_params(rng.fork(salts.FACE_BLUR), self.blur)
        blur_large = sample_blur_params(rng.fork(salts.FACE_BLUR_LARGE), self.blur_large)
        blur = {k: torch.where(large, blur_large[k], v) for k, v in blur.items()}
        params = {"large": large, "blur": blur,
                  "factor": pick(self.downsample, self.downsample_large),
                  "mode_down": rng.categorical(list(self.interpolation_prob)),
                  "mode_up": rng.categorical(list(self.interpolation_prob)),
                  "noise_sigma": pick(self.noise, self.noise_large),
                  "jpeg_quality": torch.floor(pick(self.jpeg, self.jpeg_large)).clamp(1, 100)}
        colour = rng.fork(salts.FACE_COLOUR)
        params["jitter_on"] = colour.bernoulli(self.color_jitter_prob)
        params["jitter_shift"] = colour.uniform(3, low=-self.color_jitter_shift, high=self.color_jitter_shift) / 255.0
        params["gray_on"] = colour.bernoulli(self.gray_prob)
        jitter = rng.fork(salts.FACE_COLOUR_PT)
        params["jitter_pt_on"] = jitter.bernoulli(self.color_jitter_pt_prob)
        params["jitter_pt_order"] = jitter.permutation(4)  # indices into face_colour.JITTER_STEPS
        params["jitter_pt_factors"] = torch.stack([jitter.uniform(low=lo, high=hi) for lo, hi in self.jitter_pt], 1)
        params["noise_seed"] = derive_seeds(seeds, salts.NOISE_FIELD)
        return params

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        h, w = self._check_size(batch)
        b, dev = batch.shape[0], batch.device
        x = filter_fft(batch, build_blur_kernels(params["blur"], self.kernel_size))
        # GFPGAN: cv2.resize(img, (int(w // f), int(h // f))); the float64 division on the host, as Python's
        factors = params["factor"].double().cpu()
        lq_hw = torch.stack([torch.floor(h / factors), torch.floor(w / factors)], 1).long().clamp_min(1).tolist()
        extents = _extents(h, w, self.downsample[0] if self.large_prob == 0 else
                           min(self.downsample[0], self.downsample_large[0]))
        extent_of = [next(k for k, e in enumerate(extents) if s[0] <= e[0] and s[1] <= e[1]) for s in lq_hw]
        out = torch.empty_like(x)
        for k in sorted(set(extent_of)):
            members = [i for i, e in enumerate(extent_of) if e == k]
            rows = torch.tensor(members, device=dev)
            out[rows] = _lq_part(x[rows], select_params(params, members), [lq_hw[i] for i in members], extents[k],
                                 self.antialias)
        out = to_gray(colour_shift(out, params["jitter_on"], params["jitter_shift"]), params["gray_on"])
        out = colour_jitter_pt(out, params["jitter_pt_on"], params["jitter_pt_order"], params["jitter_pt_factors"])
        return quantize8(out)


def _lq_part(x: Tensor, params: Params, lq_hw: list[list[int]], extent: tuple[int, int], antialias: bool) -> Tensor:
    """Downsample, noise, JPEG and resize back for samples sharing one canvas ``extent``."""
    b, _, h, w = x.shape
    sizes = torch.tensor(lq_hw, device=x.device).reshape(b, 2)
    x = _resize_each(x, [[h, w]] * b, lq_hw, params["mode_down"].tolist(), extent, antialias)
    noise = {"gaussian": torch.ones(b, dtype=torch.bool), "sigma": params["noise_sigma"],
             "gray": torch.zeros(b, dtype=torch.bool), "noise_seed": params["noise_seed"]}
    x = add_noise_on_canvas(x, lq_hw, noise, extent)
    x = jpeg_compress(canvas.fill(x, sizes, 0, "replicate"), params["jpeg_quality"])
    return _resize_each(x, lq_hw, [[h, w]] * b, params["mode_up"].tolist(), (h, w), antialias)


def _resize_each(x: Tensor, in_hw: list[list[int]], out_hw: list[list[int]], modes: list[int],
                 out_shape: tuple[int, int], antialias: bool) -> Tensor:
    """Resize each sample's valid corner alone (``resize.resize``; without ``antialias`` bilinear is OpenCV's
    ``INTER_LINEAR``: half-pixel centres, no low-pass on a shrink) into a canvas of ``out_shape``: at 512 px a separable filter per
    sample is several times cheaper than the dense per-sample matrix products, and a sample alone has the same
    arithmetic as in any batch."""
    out = x.new_zeros(x.shape[0], x.shape[1], *out_shape)
    for i, ((hi, wi), (ho, wo), mode) in enumerate(zip(in_hw, out_hw, modes)):
        out[i:i + 1, :, :ho, :wo] = resize(x[i:i + 1, :, :hi, :wi], (ho, wo), MODES[mode], antialias)
    return out


def _extents(h: int, w: int, smallest_factor: float) -> list[tuple[int, int]]:
    """Canvas extents, smallest first: bounds for LQ sizes up to 1/8, 1/4, 1/2, 1 and 1/``smallest_factor``
    of the input (a sample uses the first that holds it), rounded up to JPEG's 16-pixel macroblocks."""
    top = 1.0 / smallest_factor
    fractions = sorted({f for f in (0.125, 0.25, 0.5, 1.0) if f < top} | {top})
    return [(_ceil16(int(h * f) + 1), _ceil16(int(w * f) + 1)) for f in fractions]


def _ceil16(n: int) -> int:
    return -(-n // 16) * 16
