"""diffusers' noise schedules and prediction types, read from a ``scheduler_config.json`` (issue 23 item 7).

The betas are computed exactly as diffusers' ``DDPMScheduler.__init__`` computes them (diffusers 0.42,
``schedulers/scheduling_ddpm.py``), in float32 with the same operations, so they are equal bit for bit:
``linear`` (Ho et al. 2020), ``scaled_linear`` (latent diffusion), ``squaredcos_cap_v2`` (Nichol & Dhariwal 2021,
eq. 17, from ``betas_for_alpha_bar``), ``laplace`` (Hang et al. 2024) and ``sigmoid`` -- GeoDiff's (Xu et al.
2022): a sigmoid over the *betas*, sigmoid(linspace(-6, 6, T)) * (beta_end - beta_start) + beta_start, not the
sigmoid over alpha-bar of this project's own ``sigmoid`` kind. ``trained_betas`` are used as given and
``rescale_betas_zero_snr`` applies Lin et al. 2024, alg. 1 (the last beta becomes 1: zero SNR at t = T).
``prediction_type`` (``epsilon``, ``sample``, ``v_prediction``) is kept in the schedule; the denoiser turns a
sample or v prediction into the epsilon the samplers use (``prediction.py``). Settings of the sampler alone
(variance_type fixed_*, clip_sample, timestep_spacing, ...) do not change the model and are not read; a
learned variance (``learned``, ``learned_range``) is refused. Every error names the file and the key.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..core.checks import check_choice, check_int, check_number
from ..core.errors import ConfigError, short_repr
from .schedule import ScheduleConfig
from .size_limits import MAX_TIMESTEPS

BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid", "laplace")
PREDICTIONS = ("epsilon", "sample", "v_prediction")
_LEARNED = ("learned", "learned_range")


def _alpha_bar(kind: str):
    """diffusers' ``betas_for_alpha_bar`` transforms (``cosine`` and ``laplace``)."""
    if kind == "cosine":
        return lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    def laplace(t: float) -> float:
        lmb = -0.5 * math.copysign(1, 0.5 - t) * math.log(1 - 2 * math.fabs(0.5 - t) + 1e-6)
        snr = math.exp(lmb)
        return math.sqrt(snr / (1 + snr))

    return laplace


def _betas_for_alpha_bar(timesteps: int, kind: str, max_beta: float = 0.999) -> Tensor:
    fn = _alpha_bar(kind)
    betas = [min(1 - fn((i + 1) / timesteps) / fn(i / timesteps), max_beta) for i in range(timesteps)]
    return torch.tensor(betas, dtype=torch.float32)


def diffusers_betas(kind: str, timesteps: int, beta_start: float, beta_end: float) -> Tensor:
    """The float32 betas of diffusers' ``beta_schedule`` ``kind`` (the same operations as diffusers)."""
    if kind == "linear":
        return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float32)
    if kind == "scaled_linear":
        return torch.linspace(beta_start ** 0.5, beta_end ** 0.5, timesteps, dtype=torch.float32) ** 2
    if kind == "squaredcos_cap_v2":
        return _betas_for_alpha_bar(timesteps, "cosine")
    if kind == "laplace":
        return _betas_for_alpha_bar(timesteps, "laplace")
    if kind == "sigmoid":  # GeoDiff: a sigmoid over the betas
        return torch.sigmoid(torch.linspace(-6, 6, timesteps, dtype=torch.float32)) * (beta_end - beta_start) + beta_start
    raise ValueError(f"unknown beta_schedule {kind!r}")


def rescale_zero_terminal_snr(betas: Tensor) -> Tensor:
    """Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed", alg. 1, as diffusers:
    shift and scale sqrt(alpha-bar) so it is 0 at t = T and unchanged at t = 1."""
    abar_sqrt = torch.cumprod(1.0 - betas, dim=0).sqrt()
    first, last = abar_sqrt[0].clone(), abar_sqrt[-1].clone()
    abar_sqrt -= last
    abar_sqrt *= first / (first - last)
    abar = abar_sqrt ** 2
    alphas = torch.cat([abar[0:1], abar[1:] / abar[:-1]])
    return 1 - alphas


def _trained_betas(value: Any, timesteps: int) -> Tensor:
    if not isinstance(value, list) or len(value) != timesteps:
        raise ConfigError("trained_betas", f"expected a list of num_train_timesteps = {timesteps} numbers, got "
                                           f"{short_repr(value)}")
    for i, b in enumerate(value):
        check_number(f"trained_betas[{i}]", b, 0.0, 1.0)
        if b == 0.0:
            raise ConfigError(f"trained_betas[{i}]", "must be > 0")
    return torch.tensor(value, dtype=torch.float32)


def _read(data: dict[str, Any]) -> ScheduleConfig:
    """The ScheduleConfig of a scheduler_config.json mapping; ConfigError naming the JSON key."""
    timesteps = check_int("num_train_timesteps", data.get("num_train_timesteps", 1000), low=1, high=MAX_TIMESTEPS)
    start = check_number("beta_start", data.get("beta_start", 1e-4), 0.0, 1.0)
    end = check_number("beta_end", data.get("beta_end", 0.02), 0.0, 1.0)
    kind = check_choice("beta_schedule", data.get("beta_schedule", "linear"), BETA_SCHEDULES)
    prediction = check_choice("prediction_type", data.get("prediction_type", "epsilon"), PREDICTIONS)
    variance = data.get("variance_type", "fixed_small")
    if variance in _LEARNED:
        raise ConfigError("variance_type", f"{variance!r} (a model that predicts its variance) is not supported")
    rescale = data.get("rescale_betas_zero_snr", False)
    if not isinstance(rescale, bool):
        raise ConfigError("rescale_betas_zero_snr", f"expected true/false, got {short_repr(rescale)}")
    if data.get("trained_betas") is not None:
        betas, kind = _trained_betas(data["trained_betas"], timesteps), "trained_betas"
    else:
        if kind in ("linear", "scaled_linear", "sigmoid"):
            if start <= 0.0:
                raise ConfigError("beta_start", f"must be > 0 for beta_schedule {kind!r}, got {start}")
            if end >= 1.0 or end < start:
                raise ConfigError("beta_end", f"must be in [beta_start, 1) for beta_schedule {kind!r}, got {end}")
        betas = diffusers_betas(kind, timesteps, start, end)
    if rescale:
        betas = rescale_zero_terminal_snr(betas)
    if not bool(((betas > 0) & (betas <= 1)).all()) or bool((betas[:-1] >= 1).any()):
        raise ConfigError("beta_schedule", f"{kind!r} with these settings gives betas outside (0, 1)")
    return ScheduleConfig(kind=f"diffusers:{kind}", timesteps=timesteps, beta_start=start, beta_end=end,
                          prediction=prediction, betas=tuple(betas.tolist()))


def schedule_from_scheduler_config(data: Any, path: Path) -> ScheduleConfig:
    """The schedule of a diffusers ``scheduler_config.json`` already parsed into ``data``; errors name ``path``
    and the key."""
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    try:
        return _read(data)
    except ConfigError as err:
        raise ValueError(f"{path}: {err}") from None
