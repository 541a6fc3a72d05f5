"""DDPM training recipes (``configs/ddpm/NAME.yaml``): parsed and validated, every error naming its key."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..core.checks import check_choice, check_int, check_number, check_range
from ..core.errors import ConfigError, closest
from .presets import unet_config
from .schedule import ScheduleConfig
from .unet import UNetConfig


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs besides the data folder."""

    description: str = ""
    model: UNetConfig = field(default_factory=lambda: unet_config("tiny"))
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    loss: str = "l1"                    # on epsilon: l1 (paper) or mse (release)
    optimizer: str = "adam"             # adam or adamw
    lr: float = 8e-5
    adam_betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    lr_schedule: str = "constant"       # constant or cosine (decay to 0 over ``steps``)
    warmup_steps: int = 0               # linear learning-rate warm-up
    batch_size: int = 16                # per process
    crop: int = 256                     # random square crops
    t_max: int = 1000                   # train t in [1, t_max] (the refiner's t_range high end is enough)
    t_power: float = 1.0                # t = ceil(t_max * u ** t_power): 1 uniform, > 1 more weight on small t
    min_snr_gamma: float | None = None  # loss weight min(SNR_t, gamma) / SNR_t (Hang et al. 2023); None: 1
    crop_grid: int = 1                  # crop offsets are multiples of this (8 keeps the JPEG block grid)
    working_size: int | None = None     # resize each image (antialiased) so its shorter side is this; None: native
    augment: str = "hflip"              # hflip, dihedral (8 flips/rotations, grid-preserving) or none
    chroma_gain: float | None = None    # None: diffuse in RGB; g: in (Y, g Cb, g Cr) (colour_space.py)
    ema_decay: float = 0.995
    ema_warmup: bool = False            # decay 1 - (1 + step)^-ema_power, capped at ema_decay
    ema_power: float = 0.75
    grad_clip: float | None = None
    steps: int = 700_000
    checkpoint_every: int = 5000
    keep_checkpoints: int = 3           # 0 keeps all
    log_every: int = 10
    num_workers: int = 2
    seed: int = 0
    small_images: str = "pad"           # pad (reflect) or skip images smaller than the crop
    precision: str = "auto"             # auto (bf16 autocast on CUDA, fp32 on CPU), bf16 or fp32

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["model"] = self.model.to_dict()
        data["schedule"] = self.schedule.to_dict()
        data["adam_betas"] = list(self.adam_betas)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Validate a recipe mapping; unknown keys and bad values raise ConfigError naming the key."""
        if not isinstance(data, dict):
            raise ConfigError("", f"a DDPM recipe must be a mapping, got {type(data).__name__}")
        names = [f.name for f in fields(cls)]
        for key in data:
            if key not in names:
                raise ConfigError(str(key), f"unknown key{closest(str(key), names)}; expected one of {names}")
        d = dict(data)
        kw: dict[str, Any] = {}
        if "description" in d:
            if not isinstance(d["description"], str):
                raise ConfigError("description", f"expected a string, got {d['description']!r}")
            kw["description"] = d["description"]
        try:
            if "model" in d:
                kw["model"] = unet_config(d["model"], "model")
            if "schedule" in d:
                kw["schedule"] = ScheduleConfig.from_dict(d["schedule"], "schedule")
        except ConfigError:
            raise
        except (ValueError, TypeError) as err:
            raise ConfigError("", str(err)) from None
        if "loss" in d:
            kw["loss"] = check_choice("loss", d["loss"], ("l1", "mse"))
        if "optimizer" in d:
            kw["optimizer"] = check_choice("optimizer", d["optimizer"], ("adam", "adamw"))
        if "lr" in d:
            kw["lr"] = check_number("lr", d["lr"], low=0.0)
        if "adam_betas" in d:
            b = check_range("adam_betas", d["adam_betas"], 0.0, 1.0)
            kw["adam_betas"] = b
        if "weight_decay" in d:
            kw["weight_decay"] = check_number("weight_decay", d["weight_decay"], low=0.0)
        if "lr_schedule" in d:
            kw["lr_schedule"] = check_choice("lr_schedule", d["lr_schedule"], ("constant", "cosine"))
        for key, low in (("warmup_steps", 0), ("batch_size", 1), ("crop", 8), ("steps", 1), ("checkpoint_every", 1),
                         ("keep_checkpoints", 0), ("log_every", 1), ("num_workers", 0), ("seed", 0)):
            if key in d:
                kw[key] = check_int(key, d[key], low=low)
        if "t_max" in d:
            kw["t_max"] = check_int("t_max", d["t_max"], low=1)
        if "t_power" in d:
            kw["t_power"] = check_number("t_power", d["t_power"], low=0.1, high=10.0)
        if "min_snr_gamma" in d and d["min_snr_gamma"] is not None:
            kw["min_snr_gamma"] = check_number("min_snr_gamma", d["min_snr_gamma"], low=1e-3, high=1e6)
        if "crop_grid" in d:
            kw["crop_grid"] = check_int("crop_grid", d["crop_grid"], low=1, high=64)
        if "working_size" in d and d["working_size"] is not None:
            kw["working_size"] = check_int("working_size", d["working_size"], low=8)
        if "chroma_gain" in d and d["chroma_gain"] is not None:
            kw["chroma_gain"] = check_number("chroma_gain", d["chroma_gain"], low=0.125, high=64.0)
        if "augment" in d:
            kw["augment"] = check_choice("augment", d["augment"], ("none", "hflip", "dihedral"))
        if "ema_decay" in d:
            kw["ema_decay"] = check_number("ema_decay", d["ema_decay"], 0.0, 1.0)
        if "ema_warmup" in d:
            if not isinstance(d["ema_warmup"], bool):
                raise ConfigError("ema_warmup", f"expected true/false, got {d['ema_warmup']!r}")
            kw["ema_warmup"] = d["ema_warmup"]
        if "ema_power" in d:
            kw["ema_power"] = check_number("ema_power", d["ema_power"], low=0.0)
        if "grad_clip" in d and d["grad_clip"] is not None:
            kw["grad_clip"] = check_number("grad_clip", d["grad_clip"], low=0.0)
        if "small_images" in d:
            kw["small_images"] = check_choice("small_images", d["small_images"], ("pad", "skip"))
        if "precision" in d:
            kw["precision"] = check_choice("precision", d["precision"], ("auto", "bf16", "fp32"))
        config = cls(**kw)
        if config.t_max > config.schedule.timesteps:
            raise ConfigError("t_max", f"must be <= schedule.timesteps ({config.schedule.timesteps}), got {config.t_max}")
        if config.working_size is not None and config.working_size < config.crop:
            raise ConfigError("working_size", f"must be >= crop ({config.crop}), got {config.working_size}")
        if config.crop % config.crop_grid:
            raise ConfigError("crop", f"must be a multiple of crop_grid ({config.crop_grid}), got {config.crop}")
        if config.crop % config.model.stride:
            raise ConfigError("crop", f"must be a multiple of the UNet stride {config.model.stride}, got {config.crop}")
        return config

    def with_steps(self, steps: int) -> "TrainConfig":
        return replace(self, steps=check_int("steps", steps, low=1))
