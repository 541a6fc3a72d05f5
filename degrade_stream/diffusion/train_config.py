"""DDPM training recipes (``configs/ddpm/NAME.yaml``): parsed and validated, every error naming its key."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Annotated, Any, ClassVar, Literal, Mapping

from ..core.errors import ConfigError
from ..core.validate import Bounds, Parser, Rule, Seed, check_field, check_fields
from .colour_space import ChromaGain
from .presets import unet_config
from .schedule import ScheduleConfig
from .size_limits import MAX_BATCH, MAX_CROP, MAX_TIMESTEPS, MAX_WORKING_SIZE
from .unet import UNetConfig


Unit = Annotated[float, Bounds(low=0.0, high=1.0)]
Beta = Annotated[float, Bounds(low=0.0, below=1.0)]  # each Adam beta in [0, 1); beta2 < beta1 is valid
NonNegative = Annotated[float, Bounds(low=0.0)]     # at most checks.LIMIT, as every number
Rate = Annotated[float, Bounds(low=0.0, high=10.0)]  # learning rate, weight decay, EMA power
Count = Annotated[int, Bounds(low=0)]
Steps = Annotated[int, Bounds(low=1, high=10 ** 9)]  # step counts and intervals
CropSize = Annotated[int, Bounds(low=8, high=MAX_CROP)]


def _t_within_schedule(values: Mapping[str, Any]) -> None:
    steps = values["schedule"].timesteps
    if values["t_max"] > steps:
        raise ConfigError("t_max", f"must be <= schedule.timesteps ({steps}), got {values['t_max']}")


def _working_size_holds_crop(values: Mapping[str, Any]) -> None:
    if values["working_size"] is not None and values["working_size"] < values["crop"]:
        raise ConfigError("working_size", f"must be >= crop ({values['crop']}), got {values['working_size']}")


def _crop_on_grid_and_stride(values: Mapping[str, Any]) -> None:
    crop, grid, stride = values["crop"], values["crop_grid"], values["model"].stride
    if crop % grid:
        raise ConfigError("crop", f"must be a multiple of crop_grid ({grid}), got {crop}")
    if crop % stride:
        raise ConfigError("crop", f"must be a multiple of the UNet stride {stride}, got {crop}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs besides the data folder; each field's annotation is its check."""

    description: str = ""
    model: Annotated[UNetConfig, Parser(unet_config)] = field(default_factory=lambda: unet_config("tiny"))
    schedule: Annotated[ScheduleConfig, Parser(ScheduleConfig.from_dict)] = field(default_factory=ScheduleConfig)
    loss: Literal["l1", "mse"] = "l1"                   # on epsilon: l1 (paper) or mse (release)
    optimizer: Literal["adam", "adamw"] = "adam"
    lr: Rate = 8e-5
    adam_betas: tuple[Beta, Beta] = (0.9, 0.999)
    weight_decay: Rate = 0.0
    lr_schedule: Literal["constant", "cosine"] = "constant"  # cosine: decay to 0 over ``steps``
    warmup_steps: Annotated[int, Bounds(low=0, high=10 ** 9)] = 0  # linear learning-rate warm-up
    batch_size: Annotated[int, Bounds(low=1, high=MAX_BATCH)] = 16  # per process
    crop: CropSize = 256                                # random square crops
    t_max: Annotated[int, Bounds(low=1, high=MAX_TIMESTEPS)] = 1000  # train t in [1, t_max] (the refiner's t_range high end)
    t_power: Annotated[float, Bounds(low=0.1, high=10.0)] = 1.0
    """t = ceil(t_max * u ** t_power): 1 uniform, > 1 more weight on small t."""
    min_snr_gamma: Annotated[float, Bounds(low=1e-3, high=1e6)] | None = None
    """Loss weight min(SNR_t, gamma) / SNR_t (Hang et al. 2023); None: 1."""
    crop_grid: Annotated[int, Bounds(low=1, high=64)] = 1  # crop offsets are multiples of this (8: JPEG grid)
    working_size: Annotated[int, Bounds(low=8, high=MAX_WORKING_SIZE)] | None = None  # shorter side; None: native
    augment: Literal["none", "hflip", "dihedral"] = "hflip"  # dihedral: 8 flips/rotations, grid-preserving
    chroma_gain: ChromaGain | None = None
    """None: diffuse in RGB; g: in (Y, g Cb, g Cr) (colour_space.py)."""
    ema_decay: Unit = 0.995
    ema_warmup: bool = False                            # decay 1 - (1 + step)^-ema_power, capped at ema_decay
    ema_power: Rate = 0.75
    grad_clip: NonNegative | None = None
    steps: Steps = 700_000
    checkpoint_every: Steps = 5000
    keep_checkpoints: Count = 3                         # 0 keeps all
    log_every: Steps = 10
    num_workers: Annotated[int, Bounds(low=0, high=256)] = 2
    seed: Seed = 0                                      # any integer, reduced modulo 2**64
    small_images: Literal["pad", "skip"] = "pad"        # pad (reflect) or skip images smaller than the crop
    precision: Literal["auto", "bf16", "fp32"] = "auto"  # auto: bf16 autocast on CUDA, fp32 on CPU

    #: The constraints between fields (each field alone is checked by its annotation); run by ``check_fields``.
    rules: ClassVar[tuple[Rule, ...]] = (_t_within_schedule, _working_size_holds_crop, _crop_on_grid_and_stride)

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON types (what a checkpoint records); ``from_dict`` reads it back."""
        data = asdict(self)
        data["model"] = self.model.to_dict()
        data["schedule"] = self.schedule.to_dict()
        data["adam_betas"] = list(self.adam_betas)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Validate a recipe mapping; unknown keys and bad values raise ConfigError naming the key."""
        return cls(**check_fields(cls, data, "a DDPM recipe"))

    def with_steps(self, steps: int) -> "TrainConfig":
        """This recipe with another step count (checked as the ``steps`` field)."""
        return replace(self, steps=check_field(TrainConfig, "steps", steps))
