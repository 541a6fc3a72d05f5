"""Network layers of the epsilon-prediction UNet (Ho et al. 2020, appendix B; layout as in diffusers'
UNet2DModel so its checkpoints map onto these modules by name, see diffusers_import.py)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn


def timestep_embedding(t: Tensor, dim: int, flip_sin_to_cos: bool = True, freq_shift: float = 0.0,
                       max_period: float = 10000.0) -> Tensor:
    """Sinusoidal embedding of (B,) timesteps (Vaswani et al. 2017, sec. 3.5), float32 (B, dim).

    Frequencies exp(-log(max_period) * i / (dim/2 - freq_shift)); [cos, sin] order when
    ``flip_sin_to_cos`` (the DDPM reference code and diffusers' UNet2DModel default).
    """
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / (half - freq_shift)
    angles = t.float()[:, None] * torch.exp(exponent)[None, :]
    parts = [torch.cos(angles), torch.sin(angles)] if flip_sin_to_cos else [torch.sin(angles), torch.cos(angles)]
    emb = torch.cat(parts, dim=-1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, the timestep embedding added between (Ho et al. 2020, app. B)."""

    def __init__(self, in_ch: int, out_ch: int, time_dim: int, groups: int, eps: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch, eps=eps)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_proj = nn.Linear(time_dim, out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_proj(F.silu(temb))[:, :, None, None].to(h.dtype)
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention over pixels with a residual connection (Ho et al. 2020, app. B).

    q, k and v are one fused linear layer (one matmul instead of three).
    """

    def __init__(self, channels: int, head_dim: int | None, groups: int, eps: float) -> None:
        super().__init__()
        if head_dim is not None and channels % head_dim:
            raise ValueError(f"attention: {channels} channels are not divisible by head_dim {head_dim}")
        self.heads = channels // head_dim if head_dim else 1  # None: one head over all channels
        self.norm = nn.GroupNorm(groups, channels, eps=eps)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        _, _, h, w = x.shape
        tokens = rearrange(self.norm(x), "b c h w -> b (h w) c")
        q, k, v = rearrange(self.qkv(tokens), "b n (three heads d) -> three b heads n d", three=3, heads=self.heads)
        attn = F.scaled_dot_product_attention(q, k, v)
        attn = self.out(rearrange(attn, "b heads n d -> b n (heads d)"))
        return x + rearrange(attn, "b (h w) c -> b c h w", h=h, w=w)


class Downsample(nn.Module):
    """Stride-2 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Nearest-neighbour x2 upsampling followed by a 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
