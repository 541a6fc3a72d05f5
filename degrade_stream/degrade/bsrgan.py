"""BSRGAN's random-shuffle degradation (Zhang, Liang, Van Gool, Timofte, ICCV 2021, Sec. 3 and Fig. 2;
reference code ``utils_blindsr.degradation_bsrgan``), with every choice drawn per sample.

With p 0.25 (scale 4 only) a pre-halving; then a per-sample random order of: blur, blur, downsample
(75% resize by 1/U(1, 2 sf) with a random mode, else a Gaussian k25 sigma U(0.1, 0.6 sf) shifted by
(sf-1)/2 then nearest subsampling), resize to 1/sf of the size before that downsample (always after
it), Gaussian noise (level U{2..25}/255: 40% colour, 40% gray, 20% channel-correlated with covariance
(25/255)^2 U^T D U), JPEG q U{30..95} with p 0.9; then a final JPEG q U{30..95}; round to 8 bit.

Differences from the reference: the camera ISP step (p 0.25 in the paper) is left out, since its
model was never released; resizes are torch's (anti-aliased when shrinking) instead of OpenCV's; for
the correlated noise we use U^T D U itself (the reference takes an element-wise ``abs`` of it, which
can make the covariance indefinite); and no final random crop (a data loader's job).
Sizes change per sample in a per-sample order, so the model runs sample by sample after drawing
all parameters (and building all kernels) for the batch at once.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..core import salts
from ..core.params import select_params
from ..core.random import derive_seeds
from ..core.registry import register
from ..core.transform import Params
from .blur_kernels import crop_kernel
from .filtering import filter_per_sample
from .jpeg import jpeg_compress
from .kernel_grid import kernel_grid, mask_and_normalise
from .model_base import DegradationModel
from .noise import normal_fields
from .resize import MODES, resize

BLUR_PAD = 25  # BSRGAN's largest blur kernel: 2*11 + 3
SHIFT_KERNEL = 25  # the shifted Gaussian of downsample2
BLUR, BLUR2, DOWN, DOWN_FINAL, NOISE, JPEG = 0, 1, 2, 3, 4, 5  # op ids (the ISP op, 6, is omitted)


def gaussian_kernels(inv_cov: Tensor, size: Tensor, pad: int, mean: Tensor | None = None) -> Tensor:
    """(B, pad, pad) normalised Gaussians exp(-d^T inv_cov d / 2), d = offset - mean, zero outside ``size``."""
    x, y = kernel_grid(pad, inv_cov.device)
    x, y = x[None], y[None]
    if mean is not None:
        x, y = x - mean[:, None, None], y - mean[:, None, None]
    a, b, c = inv_cov[:, 0, 0, None, None], inv_cov[:, 0, 1, None, None], inv_cov[:, 1, 1, None, None]
    kern = torch.exp(-0.5 * (a * x * x + 2 * b * x * y + c * y * y))
    return mask_and_normalise(kern, size)


def blur_inv_cov(aniso: Tensor, theta: Tensor, l1: Tensor, l2: Tensor, sigma: Tensor) -> Tensor:
    """(B, 2, 2) inverse covariances: BSRGAN ``anisotropic_Gaussian`` (eigenvalues l1, l2 along theta)
    where ``aniso``, else ``fspecial('gaussian')`` with std ``sigma``."""
    c, s = torch.cos(theta), torch.sin(theta)
    il1, il2 = 1.0 / l1.clamp_min(1e-6), 1.0 / l2.clamp_min(1e-6)
    # V = [[c, s], [s, -c]] is its own inverse: Sigma^-1 = V diag(1/l1, 1/l2) V
    a = c * c * il1 + s * s * il2
    b = c * s * (il1 - il2)
    d = s * s * il1 + c * c * il2
    iso = 1.0 / sigma.clamp_min(1e-3) ** 2
    a = torch.where(aniso, a, iso)
    b = torch.where(aniso, b, torch.zeros_like(b))
    d = torch.where(aniso, d, iso)
    return torch.stack([torch.stack([a, b], -1), torch.stack([b, d], -1)], -2)


@register("bsrgan")
class BSRGAN(DegradationModel):
    """BSRGAN degradation: random per-sample order of blurs, downsamplings, noise and JPEG."""

    def __init__(self, scale: int = 4, resize_back: bool = False) -> None:
        self._set_scale(scale, resize_back)

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
            "prehalve_mode": rng.categorical([1 / 6, 1 / 6, 2 / 3]),  # 50% random cv2 mode, 50% MATLAB bicubic
            "order": order,
            # two blurs (add_blur): aniso l1,l2 ~ U(0, 4+sf), theta U(0, pi); iso sigma U(0, 2+0.2 sf);
            # kernel size 2 U{2..11} + 3
            "blur_aniso": rng.bernoulli(0.5, 2),
            "blur_size": 2 * rng.randint(2, 11, 2) + 3,
            "blur_theta": rng.uniform(2, high=math.pi),
            "blur_l1": rng.uniform(2) * (4.0 + sf_col),
            "blur_l2": rng.uniform(2) * (4.0 + sf_col),
            "blur_sigma": rng.uniform(2) * (2.0 + 0.2 * sf_col),
            # downsample2: 75% resize by 1/U(1, 2 sf), else shifted Gaussian (sigma U(0.1, 0.6 sf)) + nearest
            "down_resize": rng.bernoulli(0.75),
            "down_factor": 1.0 + rng.uniform() * (2.0 * sf - 1.0),
            "down_mode": rng.randint(0, 2),
            "down_sigma": 0.1 + rng.uniform() * (0.6 * sf - 0.1),
            "final_mode": rng.randint(0, 2),
            # noise: level U{2..25}; type 0 colour (40%), 1 gray (40%), 2 channel-correlated (20%)
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
        out_hw = self.lq_size(batch)
        b, dev = batch.shape[0], batch.device
        blur_inv = blur_inv_cov(*(params[k].reshape(-1) for k in ("blur_aniso", "blur_theta", "blur_l1", "blur_l2",
                                                                   "blur_sigma")))
        blur_kernels = gaussian_kernels(blur_inv, params["blur_size"].reshape(-1), BLUR_PAD)
        blur_kernels = blur_kernels.reshape(b, 2, BLUR_PAD, BLUR_PAD)  # each sample's two blurs
        sf = torch.where(params["prehalve"], 2.0, float(self.lq_scale)).to(dev)
        shift = (sf - 1) / 2  # centre of each sf x sf block, as BSRGAN's shift_pixel
        shift_inv = torch.eye(2, device=dev) / params["down_sigma"].to(dev)[:, None, None] ** 2
        shift_kernels = gaussian_kernels(shift_inv, torch.full((b,), SHIFT_KERNEL, device=dev), SHIFT_KERNEL,
                                         mean=shift)
        noise_mix = self._noise_matrices(params)
        on_host = {k: params[k].tolist() for k in ("prehalve", "prehalve_mode", "order", "blur_size", "down_resize",
                                                     "down_factor", "down_mode", "final_mode", "jpeg_on")}
        outs = []
        for i in range(b):
            one = {k: v[i] for k, v in on_host.items()}
            x = self._degrade_one(batch[i:i + 1], select_params(params, slice(i, i + 1)), one, blur_kernels[i],
                                  shift_kernels[i:i + 1], noise_mix[i:i + 1])
            if tuple(x.shape[-2:]) != out_hw:  # odd sizes: floor rounding of the two halvings
                x = resize(x, out_hw, "bicubic")
            outs.append(x)
        return self.finish(torch.cat(outs), batch)

    def _degrade_one(self, x: Tensor, params: Params, on_host: dict, blur_kernels: Tensor, shift_kernel: Tensor,
                     noise_mix: Tensor) -> Tensor:
        """One sample (1, C, H, W) through its pre-halving, its order of ops and the final JPEG; ``on_host``: its
        host-side choices, ``blur_kernels`` (2, 25, 25) its two blurs, ``shift_kernel`` and ``noise_mix`` its own."""
        sf = self.lq_scale
        if on_host["prehalve"]:
            x = resize(x, (x.shape[-2] // 2, x.shape[-1] // 2), MODES[on_host["prehalve_mode"]])
            sf = 2
        before_down = x.shape[-2:]
        for op in on_host["order"]:
            if op in (BLUR, BLUR2):
                x = filter_per_sample(x, crop_kernel(blur_kernels[op:op + 1], on_host["blur_size"][op]))
            elif op == DOWN:
                before_down = x.shape[-2:]
                if on_host["down_resize"]:
                    factor = on_host["down_factor"]
                    size = (max(1, int(x.shape[-2] / factor)), max(1, int(x.shape[-1] / factor)))
                    x = resize(x, size, MODES[on_host["down_mode"]])
                else:
                    x = filter_per_sample(x, shift_kernel)[..., ::sf, ::sf]
            elif op == DOWN_FINAL:
                size = (max(1, before_down[0] // sf), max(1, before_down[1] // sf))
                x = resize(x, size, MODES[on_host["final_mode"]])
            elif op == NOISE:
                x = self._add_noise(x, params, noise_mix)
            elif op == JPEG and on_host["jpeg_on"]:
                x = jpeg_compress(x, params["jpeg_q"])
            x = x.clamp(0.0, 1.0)
        return jpeg_compress(x, params["final_q"])

    @staticmethod
    def _noise_matrices(params: Params) -> Tensor:
        """(B, 3, 3) colour-mixing matrices A with A A^T = the noise covariance / sigma^2 of each type."""
        eigen = params["noise_d"]
        u, _ = torch.linalg.qr(params["noise_m"])  # a random orthonormal basis, as BSRGAN's orth(rand(3, 3))
        corr = (25.0 / 255.0) * (u @ torch.diag_embed(eigen.sqrt()) @ u.transpose(-1, -2))  # sqrt of L^2 U D U^T
        level = (params["noise_level"] / 255.0)[:, None, None]
        eye = torch.eye(3, device=eigen.device).expand_as(corr)
        gray = torch.zeros_like(corr)
        gray[:, :, 0] = 1.0  # every channel takes the first field
        kind = params["noise_type"][:, None, None]
        return torch.where(kind == 0, level * eye, torch.where(kind == 1, level * gray, corr))

    @staticmethod
    def _add_noise(x: Tensor, params: Params, mix: Tensor) -> Tensor:
        """x + A n with n a per-sample standard normal 3-channel field."""
        field = normal_fields(params["noise_seed"], tuple(x.shape[1:]), x)
        return x + torch.einsum("bij,bjhw->bihw", mix.to(x.dtype), field)
