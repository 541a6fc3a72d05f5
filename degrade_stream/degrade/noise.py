"""Gaussian and Poisson noise with per-sample level, colour/gray choice and noise field.

Levels and choices are (B,) tensors from ``sample_params``. The noise fields themselves are drawn in
``apply`` from a per-sample ``noise_seed`` (kept in params, so params stay small and replay is exact):
each sample gets its own CPU ``torch.Generator``, so its field depends only on its seed and size, never
on the rest of the batch. Fields are drawn on the CPU whatever the batch's device and then copied there
(pinned, non-blocking), so the same seed gives bit-identical fields on CPU and CUDA. (A counter-based
hash per pixel, as in ``core/random.py``, is far slower than the generators on CPU, and its Box-Muller step
calls log/cos, whose last bit may differ between CPU and CUDA math libraries.) Poisson counts depend on the sample's own
pixels and torch's sampler is sequential (one level that differs by float error shifts the draws of
all later pixels), so they are drawn on the batch's device with a generator of that device seeded
from the same seed: identical on the same device type, across device types in distribution only.

Follows BasicSR's ``random_add_gaussian_noise_pt`` / ``random_add_poisson_noise_pt`` (Real-ESRGAN; BasicSR 1.4.2
``basicsr/data/degradations.py``): sigma is given in 8-bit units (noise = field * sigma / 255); gray noise is one
field shared by the three channels (Poisson: computed on the luma, torchvision's ``rgb_to_grayscale`` weights);
Poisson uses ``vals`` = the number of distinct 8-bit levels of the sample rounded up to a power of two, counted
with a histogram instead of BasicSR's per-sample ``torch.unique`` loop (which syncs the GPU). The arithmetic is
BasicSR's, step for step: given the same normal field or the same Poisson generator state, a sample gets BasicSR's
values bit for bit (``tests/test_degrade_noise_reference.py``). A gray Poisson sample draws only its luma counts, a
colour one only its colour counts (BasicSR draws the luma counts first when any sample of its batch is gray).
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..core.quantize import quantize8
from ..core.random import SampleRandom, derive_seeds
from ..core.transform import Params
from .settings import NoiseSettings

_LUMA = (0.2989, 0.587, 0.114)  # torchvision rgb_to_grayscale, as BasicSR uses


def sample_generators(noise_seed: Tensor, device: torch.device | str = "cpu") -> list[torch.Generator]:
    """One seeded generator per sample on ``device`` (reads the (B,) seeds on the host once)."""
    return [torch.Generator(device=device).manual_seed(int(s) & 0xFFFFFFFFFFFFFFFF) for s in noise_seed.tolist()]


def _to_device(host: Tensor, like: Tensor) -> Tensor:
    """A CPU tensor on ``like``'s device and dtype; a pinned, non-blocking copy to CUDA."""
    if like.device.type == "cuda":
        host = host.pin_memory()
    return host.to(device=like.device, dtype=like.dtype, non_blocking=True)


def normal_fields(noise_seed: Tensor, shape: tuple[int, ...], like: Tensor) -> Tensor:
    """(B, *shape) standard normal float32 fields drawn on the CPU, sample i from its own seed, on ``like``'s
    device and dtype: the same values on every device."""
    fields = [torch.randn(shape, generator=g, dtype=torch.float32) for g in sample_generators(noise_seed)]
    return _to_device(torch.stack(fields), like)


def add_gaussian_noise(x: Tensor, sigma: Tensor, gray: Tensor, noise_seed: Tensor) -> Tensor:
    """x + sigma/255 * N(0, 1), with one shared field over channels where ``gray``; clamped to [0, 1]."""
    b, c, h, w = x.shape
    field = normal_fields(noise_seed, (c, h, w), x)
    field = torch.where(gray.to(x.device)[:, None, None, None], field[:, :1].expand_as(field), field)
    return (x + field * sigma.to(x.device, x.dtype)[:, None, None, None] / 255.0).clamp(0.0, 1.0)


def _levels(img8: Tensor) -> Tensor:
    """(B,) the number of distinct 8-bit levels of each sample, rounded up to a power of two."""
    b = img8.shape[0]
    idx = (img8.reshape(b, -1) * 255.0).round().long().clamp(0, 255)
    hist = torch.zeros(b, 256, device=img8.device, dtype=torch.int64).scatter_add_(1, idx, torch.ones_like(idx))
    count = (hist > 0).sum(1).clamp_min(1).to(img8.dtype)
    return torch.exp2(torch.ceil(torch.log2(count)))


def _shot_noise(img: Tensor, generator: torch.Generator) -> Tensor:
    """Shot noise of one image (C,H,W) rounded to 8 bit: Poisson(img8 * vals) / vals - img8 (BasicSR's order)."""
    img8 = quantize8(img)
    vals = _levels(img8[None])[0]
    return torch.poisson(img8 * vals, generator=generator) / vals - img8


def add_poisson_noise(x: Tensor, scale: Tensor, gray: Tensor, noise_seed: Tensor) -> Tensor:
    """x + shot noise * scale (colour, or from the luma where ``gray``); clamped to [0, 1]."""
    gens = sample_generators(noise_seed, x.device)
    noise = []
    for i, (is_gray, generator) in enumerate(zip(gray.tolist(), gens)):
        if is_gray:
            luma = _LUMA[0] * x[i, 0:1] + _LUMA[1] * x[i, 1:2] + _LUMA[2] * x[i, 2:3]
            noise.append(_shot_noise(luma, generator).expand_as(x[i]))
        else:
            noise.append(_shot_noise(x[i], generator))
    return (x + torch.stack(noise) * scale.to(x.device, x.dtype)[:, None, None, None]).clamp(0.0, 1.0)


def sample_noise(rng: SampleRandom, seeds: Tensor, salt: int, settings: NoiseSettings) -> Params:
    """Per-sample noise choice: gaussian (else Poisson), its level, gray or colour, and a field seed
    (``derive_seeds(seeds, salt)``: one salt per noise field of a stage, from ``core/salts.py``)."""
    return {"gaussian": rng.bernoulli(settings.gaussian_prob),
            "sigma": rng.uniform(low=settings.sigma_range[0], high=settings.sigma_range[1]),
            "poisson_scale": rng.uniform(low=settings.poisson_range[0], high=settings.poisson_range[1]),
            "gray": rng.bernoulli(settings.gray_prob),
            "noise_seed": derive_seeds(seeds, salt)}


def sample_gaussian_noise(rng: SampleRandom, seeds: Tensor, salt: int, settings: NoiseSettings) -> Params:
    """Per-sample Gaussian noise for ``add_gaussian_noise``: its level, gray or colour, and a field seed
    (``settings.gaussian_prob`` and ``poisson_range`` are not drawn)."""
    return {"sigma": rng.uniform(low=settings.sigma_range[0], high=settings.sigma_range[1]),
            "gray": rng.bernoulli(settings.gray_prob),
            "noise_seed": derive_seeds(seeds, salt)}


def add_noise_on_canvas(x: Tensor, sizes: list[list[int]], params: Params, field_shape: tuple[int, int]) -> Tensor:
    """Noise for a ragged canvas (see ``canvas.py``): sample i valid in its top-left ``sizes[i]``.

    Gaussian fields are drawn at the fixed ``field_shape`` (from the config, not the batch) and cropped
    to the canvas, so pixel (y, x) gets the same value whatever the canvas; Poisson noise, which depends
    on the sample's own pixels (its level count), runs per Poisson sample on its valid region only.
    """
    _, c, canvas_h, canvas_w = x.shape
    field = normal_fields(params["noise_seed"], (c, *field_shape), x)[..., :canvas_h, :canvas_w]
    gray = params["gray"].to(x.device)[:, None, None, None]
    field = torch.where(gray, field[:, :1].expand_as(field), field)
    out = (x + field * params["sigma"].to(x.device, x.dtype)[:, None, None, None] / 255.0).clamp(0.0, 1.0)
    for i, gaussian in enumerate(params["gaussian"].tolist()):
        if not gaussian:
            h, w = sizes[i]
            region = x[i:i + 1, :, :h, :w]
            out[i:i + 1, :, :h, :w] = add_poisson_noise(region, params["poisson_scale"][i:i + 1],
                                                        params["gray"][i:i + 1], params["noise_seed"][i:i + 1])
    return out
