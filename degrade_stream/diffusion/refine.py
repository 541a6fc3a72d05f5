"""The ``ddpm_refine`` stage: diffuse the handcrafted LQ x to step t and run the reverse process of a
DDPM trained on real LQ images (Yang et al. 2023, sec. 3.2: r = reverse(sqrt(abar_t) x + sqrt(1 - abar_t) eps)).

Where t is drawn: ``sample_params`` (uniform integer in ``t_range`` per sample, with a noise seed).
All noise (the forward jump and each reverse step's) comes from ``SampleRandom(noise_seed)`` on the
batch's device, one sub-stream per step, so a sample's result depends only on its own input, seed and
config, and replay from params is exact.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..core.checks import check_choice, check_int, check_number, check_range
from ..core.errors import ConfigError
from ..core.random import SampleRandom
from ..core.registry import register
from ..core.transform import Params, Transform
from .ancestral import sample_ancestral
from .ddim import sample_ddim
from .denoiser import BUNDLED, PRECISIONS, resolve_spec
from .denoiser_cache import get_denoiser

SAMPLERS = ("ddim", "ddpm")


def pad_to_multiple(x: Tensor, stride: int) -> tuple[Tensor, int, int]:
    """Reflect-pad (B, C, H, W) on the bottom/right to multiples of ``stride`` (replicate if too small)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % stride, (-w) % stride
    if ph == 0 and pw == 0:
        return x, h, w
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), h, w


def quantize8(x: Tensor) -> Tensor:
    """Clamp to [0, 1] and round to the 256 levels of an 8-bit image (stored exactly by a lossless cache)."""
    return torch.round(x.clamp(0.0, 1.0) * 255.0) / 255.0


@register("ddpm_refine")
class DDPMRefine(Transform):
    """Pull a handcrafted LQ batch toward real LQ with a DDPM: q-sample to t, then reverse to 0."""

    def __init__(self, checkpoint: str = BUNDLED, t_range: tuple[int, int] = (0, 250), sampler: str = "ddim",
                 steps: int = 25, eta: float = 0.0, ema: bool = True, precision: str = "auto",
                 compile: bool = False) -> None:
        self.checkpoint = checkpoint
        try:
            resolve_spec(checkpoint)
        except (FileNotFoundError, ValueError) as err:
            raise ConfigError("checkpoint", str(err)) from None
        self.t_range = tuple(int(v) for v in check_range("t_range", t_range, low=0, integer=True))
        self.sampler = check_choice("sampler", sampler, SAMPLERS)
        self.steps = check_int("steps", steps, low=1)
        self.eta = check_number("eta", eta, 0.0, 1.0)
        self.ema = ema
        self.precision = check_choice("precision", precision, PRECISIONS)
        self.compile = compile

    def denoiser(self, device: torch.device | str):
        """The shared denoiser of this stage's checkpoint on ``device`` (loaded once per process)."""
        return get_denoiser(self.checkpoint, device, self.ema, self.precision, self.compile)

    def to(self, device: torch.device | str) -> "DDPMRefine":
        """Load the denoiser on ``device`` now rather than on the first batch."""
        self.denoiser(device)
        return self

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        rng = self.random(seeds, batch)
        t = rng.randint(self.t_range[0], self.t_range[1])
        noise_seed = (rng.bits() << 31) ^ rng.bits()  # a non-negative int64 per sample
        return {"t": t, "noise_seed": noise_seed}

    @torch.inference_mode()
    def apply(self, batch: Tensor, params: Params) -> Tensor:
        device = batch.device
        denoiser = self.denoiser(device)
        t = params["t"].to(device=device, dtype=torch.long).reshape(-1)
        if t.shape[0] != batch.shape[0]:
            raise ValueError(f"ddpm_refine: params['t'] has {t.shape[0]} entries for a batch of {batch.shape[0]}")
        if self.t_range[1] > denoiser.schedule.timesteps:
            raise ConfigError("t_range", f"high end {self.t_range[1]} exceeds the model's {denoiser.schedule.timesteps} steps")
        x, h, w = pad_to_multiple(batch.float() * 2 - 1, denoiser.stride)
        rng = SampleRandom(params["noise_seed"], device=device)
        shape = tuple(x.shape[1:])
        x_t = denoiser.schedule.q_sample(x, t, rng.normal(*shape))

        def step_noise(step: int) -> Tensor:
            return rng.fork(step).normal(*shape)

        if self.sampler == "ddpm":
            r = sample_ancestral(denoiser, x_t, t, step_noise)
        else:
            r = sample_ddim(denoiser, x_t, t, self.steps, self.eta, step_noise)
        r = quantize8((r[..., :h, :w] + 1) / 2)
        keep = (t == 0).view(-1, 1, 1, 1)  # t = 0 is the identity, exactly
        return torch.where(keep, batch, r.to(batch.dtype))
