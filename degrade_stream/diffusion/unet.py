"""The epsilon-prediction UNet (Ho et al. 2020, app. B) with configurable widths, depth and attention.

Skip connections follow diffusers' UNet2DModel (one skip per block output and per downsample, up
levels with one extra block), so the authors' released diffusers checkpoint maps onto it by name.
The network holds weights and nothing else; timesteps are 0-based model indices (see schedule.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any, ClassVar, Mapping

import torch
from torch import Tensor, nn

from ..core.errors import ConfigError, short_repr
from ..core.validate import Bounds, Length, Rule, check_dataclass, check_keys
from .size_limits import MAX_CHANNELS, MAX_IO_CHANNELS, MAX_LAYERS, MAX_LEVELS, MAX_TIME_DIM
from .unet_layers import Downsample, ResBlock, SelfAttention, Upsample, timestep_embedding


# The settings' checks (core/validate.py): the bounds of size_limits.py.
Width = Annotated[int, Bounds(low=1, high=MAX_CHANNELS)]
Flags = Annotated[tuple[bool, ...], Length(high=MAX_LEVELS)]  # one per level: rule _one_flag_per_level


def _groups_divide_channels(values: Mapping[str, Any]) -> None:
    groups = values["norm_groups"]
    for i, c in enumerate(values["channels"]):
        if c % groups:
            raise ConfigError(f"channels[{i}]", f"{c} is not divisible by model.norm_groups={groups}")


def _one_flag_per_level(values: Mapping[str, Any]) -> None:
    channels = values["channels"]
    for key in ("down_attention", "up_attention"):
        flags = values[key]
        if flags is not None and len(flags) != len(channels):
            raise ConfigError(key, f"expected {len(channels)} values, true/false (one per level of channels "
                                   f"{list(channels)}), got {short_repr(flags)}")


def _head_dim_divides_attention(values: Mapping[str, Any]) -> None:
    head, channels, down, up = values["head_dim"], values["channels"], values["down_attention"], values["up_attention"]
    if head is None:
        return
    up = tuple(up) if up is not None else tuple(reversed(down))
    attended = [c for c, a in zip(channels, down + up) if a]
    attended += [channels[-1]] if values["mid_attention"] else []
    for c in attended:
        if c % head:
            raise ConfigError("head_dim", f"{head} does not divide the {c} channels of an attention level")


@dataclass(frozen=True)
class UNetConfig:
    """Architecture of a UNet. ``down_attention[i]`` puts attention in down level i (highest
    resolution first); ``up_attention[i]`` in up level i (lowest resolution first); by default the
    up levels mirror the down levels."""

    channels: Annotated[tuple[Width, ...], Length(low=1, high=MAX_LEVELS)] = (32, 48, 64, 96)
    layers_per_block: Annotated[int, Bounds(low=1, high=MAX_LAYERS)] = 2
    down_attention: Flags = (False, False, False, True)
    up_attention: Flags | None = None
    mid_attention: bool = True
    head_dim: Width | None = 8
    norm_groups: Width = 32
    norm_eps: Annotated[float, Bounds(low=1e-12, high=1.0)] = 1e-5
    dropout: Annotated[float, Bounds(low=0.0, high=1.0)] = 0.0
    in_channels: Annotated[int, Bounds(low=1, high=MAX_IO_CHANNELS)] = 3
    out_channels: Annotated[int, Bounds(low=1, high=MAX_IO_CHANNELS)] = 3
    time_dim: Annotated[int, Bounds(low=1, high=MAX_TIME_DIM)] | None = None
    flip_sin_to_cos: bool = True
    freq_shift: Annotated[float, Bounds(low=-1e3, high=1e3)] = 0.0

    #: The relations between settings (each setting alone is checked by its annotation).
    rules: ClassVar[tuple[Rule, ...]] = (_groups_divide_channels, _one_flag_per_level, _head_dim_divides_attention)

    def __post_init__(self) -> None:
        """Every setting checked by its annotation and ``rules`` (core/validate.py), errors naming model.KEY."""
        try:
            check_dataclass(self)
        except ConfigError as err:
            raise err.under("model") from None

    @property
    def up_attention_resolved(self) -> tuple[bool, ...]:
        return tuple(self.up_attention) if self.up_attention is not None else tuple(reversed(self.down_attention))

    @property
    def stride(self) -> int:
        """Input sizes must be multiples of this (one halving per level but the last)."""
        return 2 ** (len(self.channels) - 1)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str = "model") -> "UNetConfig":
        """Unknown settings are named with the closest valid one; the values are checked by ``__post_init__``."""
        try:
            check_keys(cls, data, "the UNet settings", noun="UNet setting")
        except ConfigError as err:
            raise err.under(path) from None
        try:
            return cls(**data)
        except ConfigError as err:  # checked as "model.KEY": name it under ``path``
            raise ConfigError(path + err.path[len("model"):], err.problem) from None


class _Level(nn.Module):
    """One resolution level: residual blocks, optional attention after each, optional resampler."""

    def __init__(self, blocks: list[ResBlock], attention: list[SelfAttention], resample: nn.Module | None) -> None:
        super().__init__()
        self.res = nn.ModuleList(blocks)
        self.attn = nn.ModuleList(attention)
        self.resample = resample


class UNet(nn.Module):
    """Predicts the noise eps in x_t given (x_t, timestep index)."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        tdim = config.time_dim or 4 * c[0]
        g, eps, drop = config.norm_groups, config.norm_eps, config.dropout

        def res(i: int, o: int) -> ResBlock:
            return ResBlock(i, o, tdim, g, eps, drop)

        def attn(ch: int) -> SelfAttention:
            return SelfAttention(ch, config.head_dim, g, eps)

        self.stem = nn.Conv2d(config.in_channels, c[0], 3, padding=1)
        self.time_mlp = nn.Sequential(nn.Linear(c[0], tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        n, layers = len(c), config.layers_per_block
        self.down = nn.ModuleList()
        in_ch = c[0]
        for i, out_ch in enumerate(c):
            blocks = [res(in_ch if j == 0 else out_ch, out_ch) for j in range(layers)]
            att = [attn(out_ch) for _ in range(layers)] if config.down_attention[i] else []
            self.down.append(_Level(blocks, att, Downsample(out_ch) if i < n - 1 else None))
            in_ch = out_ch
        self.mid = nn.ModuleList([res(c[-1], c[-1]), attn(c[-1]) if config.mid_attention else nn.Identity(),
                                  res(c[-1], c[-1])])
        rev = list(reversed(c))
        up_att = config.up_attention_resolved
        self.up = nn.ModuleList()
        prev = rev[0]
        for i, out_ch in enumerate(rev):
            skip_in = rev[min(i + 1, n - 1)]
            blocks = []
            for j in range(layers + 1):
                skip_ch = skip_in if j == layers else out_ch
                blocks.append(res((prev if j == 0 else out_ch) + skip_ch, out_ch))
            att = [attn(out_ch) for _ in range(layers + 1)] if up_att[i] else []
            self.up.append(_Level(blocks, att, Upsample(out_ch) if i < n - 1 else None))
            prev = out_ch
        self.head_norm = nn.GroupNorm(g, c[0], eps=eps)
        self.head_conv = nn.Conv2d(c[0], config.out_channels, 3, padding=1)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        """eps prediction for x (B, C, H, W), H and W multiples of ``config.stride``; t (B,) 0-based indices."""
        stride = self.config.stride
        if x.shape[-1] % stride or x.shape[-2] % stride:
            raise ValueError(f"UNet input height and width must be multiples of {stride}, got {tuple(x.shape[-2:])}")
        temb = timestep_embedding(t, self.config.channels[0], self.config.flip_sin_to_cos, self.config.freq_shift)
        temb = self.time_mlp(temb.to(self.stem.weight.dtype))
        h = self.stem(x)
        skips = [h]
        for level in self.down:
            for j, block in enumerate(level.res):
                h = block(h, temb)
                if len(level.attn):
                    h = level.attn[j](h)
                skips.append(h)
            if level.resample is not None:
                h = level.resample(h)
                skips.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, temb)), temb)
        for level in self.up:
            for j, block in enumerate(level.res):
                h = block(torch.cat([h, skips.pop()], dim=1), temb)
                if len(level.attn):
                    h = level.attn[j](h)
            if level.resample is not None:
                h = level.resample(h)
        return self.head_conv(torch.nn.functional.silu(self.head_norm(h)))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def parameter_shapes(config: UNetConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every weight of the UNet of ``config``, from a network built on the meta device."""
    with torch.device("meta"):
        model = UNet(config)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def parameter_count(config: UNetConfig) -> int:
    """The number of weights of the UNet of ``config`` (nothing is allocated)."""
    total = 0
    for shape in parameter_shapes(config).values():
        n = 1
        for s in shape:
            n *= s
        total += n
    return total
