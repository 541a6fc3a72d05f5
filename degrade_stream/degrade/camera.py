"""The ``camera`` stage: a camera's own degradation as measured from aligned pairs by ``fit-camera``.

Per sample it draws one entry of the fitted bank (one fitted scene: its colour map, per-channel kernels
and noise level), a noise gain, whether to JPEG-code and at what quality, a noise-field seed, and a detail gain
and detail-field seed; then (apply, deterministic): [antialiased bicubic to the L grid when the model's scale
> 1] -> colour map -> per-channel kernel (its negative lobes are the ISP's sharpening) -> noise -> detail
residual -> [JPEG] -> 8-bit levels [-> bicubic back to the H size with ``resize_back``].

Noise, as fitted (fit/noise.py): a white normal field per sample (drawn on the CPU from the sample's own
seed, as the noise stage does, so it is the same on every device), coloured spatially by the model's
filter, mixed between channels by the Cholesky factor of the fitted channel correlation, then scaled per
pixel by gain * sqrt(a mu + b) (Foi et al. 2008), mu the blurred clean value. Every operation is per
sample, so a sample's output depends only on its own input, seed and config.

Detail residual (fit/noise.py ``fit_detail``; models fitted before it have none and give the same output as
before): a second field, coloured and channel-mixed by its own fitted filter and correlation, scaled per pixel
by detail_gain * sqrt(c E), E the local texture energy of the clean value: what the fit's linear blur leaves
unexplained at edges and texture (local misregistration, aliasing, demosaicing), incoherent with H.

The model's values live in a safetensors file named by ``model`` (a path, relative to the working folder
if not absolute); ``model_sha256``, when given, must match the file, so a changed file cannot silently
change a chain. The remaining free numbers (``noise_gain_range``, ``detail_gain_range``, ``jpeg_prob``,
``jpeg_range``) are what ``calibrate --pairs`` tunes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import torch
from torch import Tensor

from ..core import salts
from ..core.errors import ConfigError
from ..core.random import derive_seeds
from ..core.registry import register
from ..core.transform import Params
from ..core.validate import Range
from ..fit.colour import apply_colour
from ..fit.kernel import apply_kernels
from ..fit.model import CameraModel, file_sha256, load_model
from ..fit.noise import texture_energy
from .filtering import filter_per_sample
from .jpeg import jpeg_compress
from .model_base import DegradationModel
from .noise import normal_fields
from .resize import resize
from .settings import JpegRange, Prob


def _load(model: str, model_sha256: str | None) -> CameraModel:
    try:
        loaded = load_model(model)
    except (FileNotFoundError, ValueError) as err:
        raise ConfigError("model", str(err)) from None
    if model_sha256 is not None and file_sha256(model) != model_sha256:
        raise ConfigError("model_sha256", f"{model} has SHA-256 {file_sha256(model)}, not {model_sha256}: the "
                                          "file changed since the chain was written (refit, or update the hash)")
    return loaded


def coloured_field(clean: Tensor, seed: Tensor, spatial: Tensor, chroma: Tensor) -> Tensor:
    """(B, 3, h, w) unit-variance field from per-sample seeds: white, filtered by ``spatial``, mixed between
    channels by the Cholesky factor ``chroma``."""
    b, c, h, w = clean.shape
    field = normal_fields(seed, (c, h, w), clean)
    s = spatial.shape[-1]
    spatial = spatial.to(clean.device, clean.dtype).expand(b * c, s, s)
    field = filter_per_sample(field.reshape(b * c, 1, h, w), spatial).reshape(b, c, h, w)
    chol = chroma.to(clean.device, clean.dtype)
    return torch.stack([chol[i, 0] * field[:, 0] + chol[i, 1] * field[:, 1] + chol[i, 2] * field[:, 2]
                        for i in range(3)], 1)


def camera_noise(clean: Tensor, model: CameraModel, entry: Tensor, gain: Tensor, noise_seed: Tensor) -> Tensor:
    """(B, 3, h, w) noise for the clean (blurred) batch: coloured, channel-mixed, scaled by gain sqrt(a mu + b)."""
    mixed = coloured_field(clean, noise_seed, model.spatial, model.chroma)
    a = model.noise_a.to(clean.device, clean.dtype)[entry][:, :, None, None]
    b_ = model.noise_b.to(clean.device, clean.dtype)[entry][:, :, None, None]
    gain = gain.to(clean.device, clean.dtype)[:, None, None, None]
    return (a * clean.clamp(0.0, 1.0) + b_).clamp_min(0.0).sqrt() * gain * mixed


def detail_residual(clean: Tensor, model: CameraModel, entry: Tensor, gain: Tensor, seed: Tensor) -> Tensor:
    """(B, 3, h, w) detail residual for the clean (blurred) batch: its own coloured, channel-mixed field scaled
    by gain sqrt(c E), E the texture energy of the clean batch (fit/noise.py)."""
    mixed = coloured_field(clean, seed, model.detail_spatial, model.detail_chroma)
    c = model.detail.to(clean.device, clean.dtype)[entry][:, :, None, None]
    gain = gain.to(clean.device, clean.dtype)[:, None, None, None]
    return (c * texture_energy(clean)).sqrt() * gain * mixed


@register("camera")
class Camera(DegradationModel):
    """A fitted camera: a bank entry per sample (colour map, per-channel kernels, noise level), noise, detail
    residual, JPEG."""

    def __init__(self, model: str, model_sha256: str | None = None, resize_back: bool = False, colour: bool = True,
                 noise_gain_range: Annotated[tuple[float, float], Range(low=0.0, high=100.0)] = (1.0, 1.0),
                 jpeg_prob: Prob = 0.0, jpeg_range: JpegRange = (90.0, 100.0),
                 detail_gain_range: Annotated[tuple[float, float], Range(low=0.0, high=100.0)] = (1.0, 1.0)) -> None:
        self.model = _load(model, model_sha256)
        self._set_scale(self.model.scale, resize_back)
        self.colour = colour
        self.noise_gain_range = noise_gain_range
        self.jpeg_prob = jpeg_prob
        self.jpeg_range = jpeg_range
        self.detail_gain_range = detail_gain_range

    @property
    def model_path(self) -> Path:
        return Path(self._config["model"])

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        self.lq_size(batch)
        rng = self.random(seeds, batch)
        return {"entry": rng.randint(0, self.model.entries - 1),
                "noise_gain": rng.uniform(low=self.noise_gain_range[0], high=self.noise_gain_range[1]),
                "jpeg_on": rng.bernoulli(self.jpeg_prob),
                "jpeg": rng.uniform(low=self.jpeg_range[0], high=self.jpeg_range[1]),
                "noise_seed": derive_seeds(seeds, salts.NOISE_FIELD),
                "detail_gain": rng.uniform(low=self.detail_gain_range[0], high=self.detail_gain_range[1]),
                "detail_seed": derive_seeds(seeds, salts.DETAIL_FIELD)}

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        size = self.lq_size(batch)
        entry = params["entry"].reshape(-1).to("cpu", torch.long)
        if entry.numel() != batch.shape[0] or int(entry.min()) < 0 or int(entry.max()) >= self.model.entries:
            raise ValueError(f"camera: params['entry'] must hold one bank index in [0, {self.model.entries - 1}] "
                             f"per sample, got {entry.tolist()}")
        x = resize(batch, size, "bicubic")
        if self.colour:
            x = apply_colour(x, self.model.colour[entry])
        x = apply_kernels(x, self.model.kernels[entry])
        clean = x
        x = x + camera_noise(clean, self.model, entry, params["noise_gain"], params["noise_seed"])
        if self.model.has_detail:
            x = x + detail_residual(clean, self.model, entry, params["detail_gain"], params["detail_seed"])
        jpeg_on = params["jpeg_on"].to(x.device)
        if bool(jpeg_on.any()):
            x = torch.where(jpeg_on[:, None, None, None], jpeg_compress(x.clamp(0.0, 1.0), params["jpeg"]), x)
        return self.finish(x, batch)
