"""The ``ddpm_refine`` stage: diffuse the handcrafted LQ x to step t and run the reverse process of a
DDPM trained on real LQ images (Yang et al. 2023, sec. 3.2: r = reverse(sqrt(abar_t) x + sqrt(1 - abar_t) eps)).

Where t is drawn: ``sample_params`` (uniform integer in ``t_range`` per sample, with a noise seed).
All noise (the forward jump and each reverse step's) comes from ``SampleRandom(noise_seed)`` on the
batch's device, one sub-stream per step, so a sample's result depends only on its own input, seed and
config, and replay from params is exact.

Cost: samples at t = 0 are the identity and are never sent through the model (a batch of only t = 0
makes no network call). With ``t_per_step`` set, DDIM gives sample i ceil(t_i / t_per_step) steps (at
most ``steps``), so the cost follows t; without it every sample of a batch runs ``steps`` slots.

Working resolution (``working_size``, working_size.py): a model trained on images resized so their shorter
side is ``working_size`` (the face model: 128) refines each image at that size -- resized there with the
training resize, q-sampled and reversed, and resized back (antialiased bicubic) to the input size, and the
input's detail above the working resolution, x - up(down(x)), is added back (without it the result is a
blurred upscale; measured in benchmarks/RESULTS.md, "Faces"), so it is not an option. The cost follows the
working size (RESULTS, "Faces").

Model loading is explicit: the stage reads its checkpoint's config files when built (to check ``t_range``,
``steps`` and the working size against the model) and holds a ``DenoiserHandle`` (model_handle.py) that loads
the weights once per device, on the first batch or on ``chain.to(device)``. Chains share a loaded model only
when told to (``share_model``).
"""
from __future__ import annotations

from typing import Annotated, Any, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from ..core.errors import ConfigError
from ..core.quantize import quantize8
from ..core.random import SampleRandom, join64
from ..core.registry import register
from ..core.transform import Params, Transform
from ..core.validate import Bounds, Choice, Parser, Range
from .denoiser import BUNDLED, PRECISIONS, Denoiser, checkpoint_schedule
from .model_handle import DenoiserHandle
from .sampler import sample_ancestral, sample_ddim, sample_ddim_per_t
from .working_size import MODEL, check_working_size, resize_shorter_side, resize_to

SAMPLERS = ("ddim", "ddpm")


def _fits_model(values: Mapping[str, Any]) -> None:
    """``t_range``, ``steps`` and ``t_per_step`` within the checkpoint's T steps (read from its config files)."""
    checkpoint = values["checkpoint"]
    try:
        schedule = checkpoint_schedule(checkpoint)  # the checkpoint's config files, not its weights
    except (FileNotFoundError, ValueError) as err:
        raise ConfigError("checkpoint", str(err)) from None
    steps, high = schedule.timesteps, values["t_range"][1]
    if high > steps:
        raise ConfigError("t_range", f"high end {high} exceeds the model's {steps} steps (checkpoint {checkpoint})")
    if schedule.betas is not None and schedule.betas[-1] >= 1.0 and high >= steps:
        raise ConfigError("t_range", f"high end {high}: the model's schedule has zero SNR at t = {steps} "
                                     f"(rescale_betas_zero_snr), where x_t holds no trace of the image; use at most "
                                     f"{steps - 1} (checkpoint {checkpoint})")
    for key in ("steps", "t_per_step"):  # more steps than T would repeat steps
        if values[key] is not None and values[key] > steps:
            raise ConfigError(key, f"must be <= {steps}, got {values[key]}")


def _t_per_step_needs_ddim(values: Mapping[str, Any]) -> None:
    if values["t_per_step"] is not None and values["sampler"] != "ddim":
        raise ConfigError("t_per_step", f"applies to sampler 'ddim' only; sampler {values['sampler']!r} "
                                        "already takes t_i steps per sample")


def pad_to_multiple(x: Tensor, stride: int) -> tuple[Tensor, int, int]:
    """Reflect-pad (B, C, H, W) on the bottom/right to multiples of ``stride`` (replicate if too small)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % stride, (-w) % stride
    if ph == 0 and pw == 0:
        return x, h, w
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), h, w


@register("ddpm_refine")
class DDPMRefine(Transform):
    """Pull a handcrafted LQ batch toward real LQ with a DDPM: q-sample to t, then reverse to 0."""

    #: Each argument is checked by its annotation; these check them against each other and the checkpoint.
    rules = (_fits_model, _t_per_step_needs_ddim)

    def __init__(self, checkpoint: str = BUNDLED, t_range: Annotated[tuple[int, int], Range(low=0)] = (0, 250),
                 sampler: Annotated[str, Choice(SAMPLERS)] = "ddim", steps: Annotated[int, Bounds(low=1)] = 25,
                 eta: Annotated[float, Bounds(low=0.0, high=1.0)] = 0.0, ema: bool = True,
                 precision: Annotated[str, Choice(PRECISIONS)] = "auto", compile: bool = False,
                 t_per_step: Annotated[int, Bounds(low=1)] | None = None,
                 working_size: Annotated[int | str | None, Parser(check_working_size)] = MODEL) -> None:
        self.checkpoint = checkpoint
        self.model = DenoiserHandle(checkpoint, ema, precision, compile)  # loads nothing yet
        self.timesteps = self.model.read_schedule().timesteps  # readable: checked by _fits_model
        self.t_range = t_range
        self.sampler = sampler
        self.steps = steps
        self.eta = eta
        self.ema = ema
        self.precision = precision
        self.compile = compile
        self.t_per_step = t_per_step
        self.working_size = working_size
        if self.working_size == MODEL:
            try:
                self.resolution = self.model.read_working_size()  # the resolution it was trained at, or None
            except (FileNotFoundError, ValueError) as err:
                raise ConfigError("working_size", str(err)) from None
        else:
            self.resolution = self.working_size

    def denoiser(self, device: torch.device | str) -> Denoiser:
        """This stage's denoiser on ``device`` (loaded by its handle the first time)."""
        return self.model.get(device)

    def to(self, device: torch.device | str) -> "DDPMRefine":
        """Load the denoiser on ``device`` now (not on the first batch) and release it elsewhere."""
        self.model.to(device)
        return self

    def share_model(self, other: "DDPMRefine") -> "DDPMRefine":
        """Use ``other``'s model handle (and whatever it has loaded) instead of loading this stage's own; both
        must name the same checkpoint with the same ema/precision/compile. Returns self."""
        if not self.model.same_model(other.model):
            raise ValueError(f"ddpm_refine: cannot share {other.model!r} with a stage of {self.model!r}")
        self.model = other.model
        return self

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        rng = self.random(seeds, batch)
        t = rng.randint(self.t_range[0], self.t_range[1])
        noise_seed = join64(rng.bits(), rng.bits())  # a full 64-bit seed per sample
        return {"t": t, "noise_seed": noise_seed}

    @torch.inference_mode()
    def apply(self, batch: Tensor, params: Params) -> Tensor:
        t = params["t"].reshape(-1)
        if t.shape[0] != batch.shape[0]:
            raise ValueError(f"ddpm_refine: params['t'] has {t.shape[0]} entries for a batch of {batch.shape[0]}")
        t_host = t.detach().to("cpu", torch.long)  # the one host read of t: who runs, and the step plan
        if t_host.numel() and (int(t_host.min()) < 0 or int(t_host.max()) > self.timesteps):
            raise ValueError(f"ddpm_refine: params['t'] must lie in [0, {self.timesteps}] (the model's steps), "
                             f"got [{int(t_host.min())}, {int(t_host.max())}]")
        running = t_host > 0
        if not bool(running.any()):
            return batch.clone()  # t = 0 is the identity: no noise, no network
        device = batch.device
        denoiser = self.denoiser(device)
        seeds = params["noise_seed"].reshape(-1)
        if (self.sampler == "ddpm" or self.t_per_step is not None) and not bool(running.all()):
            # Only the samples with t > 0 run. Bit-identical to the whole batch for these samplers: they
            # never send a t = 0 sample through the network, and every other operation is per element.
            idx = running.nonzero().reshape(-1)
            idx_dev = idx.to(device)
            out = batch.clone()
            out[idx_dev] = self._refine(denoiser, batch[idx_dev], t_host[idx], seeds[idx.to(seeds.device)])
            return out
        r = self._refine(denoiser, batch, t_host, seeds)
        keep = (t_host == 0).to(device).view(-1, 1, 1, 1)  # t = 0 is the identity, exactly
        return torch.where(keep, batch, r)

    def _refine(self, denoiser: Denoiser, batch: Tensor, t_host: Tensor, noise_seed: Tensor) -> Tensor:
        """q-sample ``batch`` to t and run the reverse process back to 0 (at the working resolution, if any);
        8-bit levels in the batch's dtype."""
        device = batch.device
        t = t_host.to(device)
        image = batch.float()
        work = image if self.resolution is None else resize_shorter_side(image, self.resolution)
        x, h, w = pad_to_multiple(denoiser.space.to_model(work * 2 - 1), denoiser.stride)
        rng = SampleRandom(noise_seed, device=device)
        shape = tuple(x.shape[1:])
        x_t = denoiser.schedule.q_sample(x, t, rng.normal(*shape))

        def step_noise(step: int) -> Tensor:
            return rng.fork(step).normal(*shape)

        if self.sampler == "ddpm":
            r = sample_ancestral(denoiser, x_t, t_host, step_noise)
        elif self.t_per_step is not None:
            r = sample_ddim_per_t(denoiser, x_t, t_host, self.t_per_step, self.steps, self.eta, step_noise)
        else:
            r = sample_ddim(denoiser, x_t, t, self.steps, self.eta, step_noise)
        r = (denoiser.space.from_model(r[..., :h, :w]) + 1) / 2
        if work is not image:
            r = self._to_input_size(r, image, work)
        return quantize8(r).to(batch.dtype)

    @staticmethod
    def _to_input_size(r: Tensor, image: Tensor, work: Tensor) -> Tensor:
        """The refinement at the working size ``r`` back at the size of ``image``, plus the input's detail above
        the working size, image - up(work)."""
        height, width = image.shape[-2:]
        return resize_to(r.clamp(0.0, 1.0), height, width) + (image - resize_to(work, height, width))
