"""Noise schedules as plain functions, and the forward process q(x_t | x_0) in closed form.

Time convention used everywhere in this package: t in {0, ..., T}; t = 0 is the clean image and
x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps with abar_t = prod_{s<=t} (1 - beta_s)
(Ho et al. 2020, eq. 4). The network is called with the 0-based index t - 1, as in the DDPM
reference code and diffusers, so imported diffusers weights see the timesteps they were trained on.
"""
from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Mapping

import torch
from torch import Tensor

from ..core.errors import ConfigError
from ..core.validate import Bounds, Rule, check_fields
from .size_limits import MAX_TIMESTEPS

Kind = Literal["linear", "cosine", "sigmoid"]
SCHEDULES = typing.get_args(Kind)
Beta = Annotated[float, Bounds(low=0.0, high=1.0)]


def linear_betas(timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Tensor:
    """Linearly spaced betas (Ho et al. 2020, sec. 4; the authors' release uses these values)."""
    return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)


def cosine_betas(timesteps: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> Tensor:
    """Betas of abar(t) = cos^2(((t/T + s) / (1 + s)) * pi/2) (Nichol & Dhariwal 2021, eq. 17), clipped."""
    steps = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    abar = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    betas = 1 - abar[1:] / abar[:-1]
    return betas.clamp(max=max_beta)


def sigmoid_betas(timesteps: int = 1000, start: float = -3.0, end: float = 3.0, tau: float = 1.0,
                  max_beta: float = 0.999) -> Tensor:
    """Betas of a sigmoid-shaped abar(t) (Jabri, Fleet, Chen 2022, "Scalable Adaptive Computation", alg. 1)."""
    steps = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    v_start = torch.sigmoid(torch.tensor(start / tau, dtype=torch.float64))
    v_end = torch.sigmoid(torch.tensor(end / tau, dtype=torch.float64))
    abar = (-torch.sigmoid((steps * (end - start) + start) / tau) + v_end) / (v_end - v_start)
    betas = 1 - abar[1:] / abar[:-1]
    return betas.clamp(min=0.0, max=max_beta)


def _linear_betas_ordered(values: Mapping[str, Any]) -> None:
    start, end = values["beta_start"], values["beta_end"]
    if values["kind"] == "linear" and not 0.0 < start <= end < 1.0:
        raise ConfigError("beta_start", f"the linear schedule needs 0 < beta_start <= beta_end < 1, got {start} and {end}")


@dataclass(frozen=True)
class ScheduleConfig:
    """What a checkpoint records about its schedule. ``prediction`` and explicit ``betas`` come only from a
    diffusers scheduler_config.json (diffusers_schedule.py); the project trains epsilon models on ``kind``."""

    kind: Kind = "linear"
    timesteps: Annotated[int, Bounds(low=1, high=MAX_TIMESTEPS)] = 1000
    beta_start: Beta = 1e-4
    beta_end: Beta = 0.02
    prediction: str = "epsilon"                 # what the network outputs: epsilon, sample or v_prediction
    betas: tuple[float, ...] | None = None      # explicit betas (diffusers' own computation), overriding kind

    #: The keys a project config may set (``prediction`` and ``betas`` come from diffusers files only).
    KEYS: ClassVar[tuple[str, ...]] = ("kind", "timesteps", "beta_start", "beta_end")
    rules: ClassVar[tuple[Rule, ...]] = (_linear_betas_ordered,)

    @classmethod
    def from_dict(cls, data: dict, path: str = "schedule") -> "ScheduleConfig":
        """Checked by the fields' annotations and ``rules`` (core/validate.py); errors name ``path.KEY``."""
        try:
            return cls(**check_fields(cls, data, "the noise schedule", cls.KEYS))
        except ConfigError as err:
            raise err.under(path) from None

    def to_dict(self) -> dict:
        data = {"kind": self.kind, "timesteps": self.timesteps, "beta_start": self.beta_start,
                "beta_end": self.beta_end}
        if self.prediction != "epsilon":
            data["prediction"] = self.prediction
        if self.betas is not None:
            data["betas"] = list(self.betas)
        return data


class NoiseSchedule:
    """Betas and cumulative alphas, indexed by t in {0..T} (index 0 holds abar_0 = 1)."""

    def __init__(self, betas: Tensor, prediction: str = "epsilon") -> None:
        betas = torch.as_tensor(betas, dtype=torch.float64)
        # values in (0, 1); the last may be 1 (zero terminal SNR, Lin et al. 2024: abar_T = 0)
        if betas.dim() != 1 or not bool(((betas > 0) & (betas < 1)).all()) and not (
                bool(((betas[:-1] > 0) & (betas[:-1] < 1)).all()) and float(betas[-1]) == 1.0):
            raise ValueError("betas must be a 1-D tensor with values in (0, 1) (the last may be 1)")
        self.prediction = prediction
        self.timesteps = int(betas.numel())
        one = torch.ones(1, dtype=torch.float64)
        # Computed in float64 (products over 1000 steps), stored in float32 for use.
        self.betas = torch.cat([torch.zeros(1, dtype=torch.float64), betas]).float()
        self.alphas_cumprod = torch.cat([one, torch.cumprod(1 - betas, 0)]).float()

    def to(self, device: torch.device | str) -> "NoiseSchedule":
        """A copy of the schedule with its tables on ``device``."""
        other = NoiseSchedule.__new__(NoiseSchedule)
        other.timesteps, other.prediction = self.timesteps, self.prediction
        other.betas = self.betas.to(device)
        other.alphas_cumprod = self.alphas_cumprod.to(device)
        return other

    def abar(self, t: Tensor) -> Tensor:
        """abar_t for integer t of shape (B,), as (B, 1, 1, 1) for broadcasting over images."""
        return self.alphas_cumprod.to(t.device)[t].view(-1, 1, 1, 1)

    def q_sample(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps (Ho et al. 2020, eq. 4); t = 0 gives x_0."""
        a = self.abar(t).to(x0.dtype)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def predict_x0(self, x_t: Tensor, t: Tensor, eps: Tensor) -> Tensor:
        """x_0 estimate from an epsilon prediction: (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)."""
        a = self.abar(t).to(x_t.dtype)
        return (x_t - (1 - a).sqrt() * eps) / a.sqrt()


def make_schedule(config: ScheduleConfig | dict | None = None) -> NoiseSchedule:
    """A NoiseSchedule from a ScheduleConfig (or its dict form)."""
    if config is None:
        config = ScheduleConfig()
    elif isinstance(config, dict):
        config = ScheduleConfig.from_dict(config)
    if config.betas is not None:
        betas = torch.tensor(config.betas, dtype=torch.float64)
    elif config.kind == "linear":
        betas = linear_betas(config.timesteps, config.beta_start, config.beta_end)
    elif config.kind == "cosine":
        betas = cosine_betas(config.timesteps)
    else:
        betas = sigmoid_betas(config.timesteps)
    return NoiseSchedule(betas, config.prediction)
