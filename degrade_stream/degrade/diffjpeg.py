"""The JPEG of Real-ESRGAN's ``feed_data``: BasicSR's ``DiffJPEG`` (basicsr/utils/diffjpeg.py, BasicSR 1.4.2,
itself after mlomnitz/DiffJPEG), written again here batched, per-sample shaped and block-local.

What makes it DiffJPEG's rather than libjpeg's (``jpeg.py``):
- **Continuous quality scaling.** The Annex K tables are multiplied by the float factor 50/q (q < 50) or
  (200 - 2q)/100, with no flooring to integers and no clamping to [1, 255], for a float quality q.
- **Its table layout.** Both tables are applied transposed (the luma table's row i is Annex K's column i),
  so horizontal and vertical frequencies swap their quantisation steps.
- **Zero padding.** H and W are padded to multiples of 16 with zeros (black), not by edge replication.
- **Rounding.** ``torch.round`` (half to even), as Real-ESRGAN builds it (``DiffJPEG(differentiable=False)``);
  ``differentiable=True`` gives DiffJPEG's default, round(x) + (x - round(x))^3, which also changes the values.
- 4:2:0 chroma by 2x2 averages, upsampled by replication; float DCT; output clamped to [0, 1], not rounded.

The arithmetic follows DiffJPEG's order step by step (float32 constants made in float64 with numpy, the
colour transforms and the 8x8 DCTs as matrix products), so a lone image gets DiffJPEG's values bit for bit
(``tests/test_degrade_diffjpeg.py``). Products are one ``bmm`` per sample or plane, so a sample's arithmetic has
the same shape alone or in any batch; every 16x16 macroblock is coded on its own, so a ragged canvas
(``canvas.py``) whose samples are zero outside their valid corner gives each sample its own result.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .jpeg import QT_C, QT_Y

# ITU-R BT.601 full-range (JFIF) colour transforms, as DiffJPEG writes them
_TO_YCBCR = ((0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))
_TO_RGB = ((1.0, 0.0, 1.402), (1.0, -0.344136, -0.714136), (1.0, 1.772, 0.0))


def _constants() -> dict[str, np.ndarray]:
    """float32 constants, computed in float64 and rounded once, as DiffJPEG builds its parameters."""
    alpha = np.array([1.0 / math.sqrt(2)] + [1.0] * 7)
    forward = np.zeros((8, 8, 8, 8))
    for x, y, u, v in itertools.product(range(8), repeat=4):  # pixel (x, y) -> frequency (u, v)
        forward[x, y, u, v] = np.cos((2 * x + 1) * u * np.pi / 16) * np.cos((2 * y + 1) * v * np.pi / 16)
    inverse = forward.transpose(2, 3, 0, 1)  # frequency (u, v) -> pixel (x, y)
    return {
        "to_ycbcr": np.array(_TO_YCBCR).T, "to_rgb": np.array(_TO_RGB).T,
        "dct": forward.reshape(64, 64), "dct_scale": (np.outer(alpha, alpha) * 0.25).reshape(64),
        "idct": inverse.reshape(64, 64), "idct_alpha": np.outer(alpha, alpha).reshape(64),
        # the transposed layout: entry (i, j) of each table is Annex K's (j, i)
        "table_y": np.array(QT_Y, dtype=np.float64).reshape(8, 8).T.reshape(64),
        "table_c": np.array(QT_C, dtype=np.float64).reshape(8, 8).T.reshape(64),
    }


_CONSTANTS = {k: v.astype(np.float32) for k, v in _constants().items()}
_ON_DEVICE: dict[tuple[str, torch.device], Tensor] = {}


def _const(name: str, device: torch.device) -> Tensor:
    key = (name, device)
    if key not in _ON_DEVICE:
        _ON_DEVICE[key] = torch.from_numpy(_CONSTANTS[name]).to(device)
    return _ON_DEVICE[key]


def quality_factor(quality: Tensor) -> Tensor:
    """(B,) float32 table multipliers for float qualities: 5000/q/100 below 50, (200 - 2q)/100 from 50 on."""
    q = quality.to(torch.float32)
    return torch.where(q < 50, 5000.0 / q, 200.0 - q * 2) / 100.0


def _colour(pixels: Tensor, matrix: Tensor) -> Tensor:
    """(B, N, 3) @ (3, 3), one product per sample."""
    return torch.bmm(pixels, matrix.expand(pixels.shape[0], 3, 3))


def _code_plane(plane: Tensor, table: Tensor, rounding: str) -> Tensor:
    """DCT, quantise with (B, 64) ``table``, dequantise, inverse DCT: (B, H, W) plane of levels (128-centred on
    output as on input), H and W multiples of 8; one ``bmm`` per plane and transform."""
    b, h, w = plane.shape
    dev = plane.device
    blocks = plane.reshape(b, h // 8, 8, w // 8, 8).transpose(2, 3).reshape(b, -1, 64)
    coef = torch.bmm(blocks - 128, _const("dct", dev).expand(b, 64, 64)) * _const("dct_scale", dev)
    steps = table[:, None, :]
    coef = coef / steps
    rounded = torch.round(coef)
    if rounding == "cubic":
        rounded = rounded + (coef - rounded) ** 3
    coef = rounded * steps
    pixels = 0.25 * torch.bmm(coef * _const("idct_alpha", dev), _const("idct", dev).expand(b, 64, 64)) + 128
    return pixels.reshape(b, h // 8, w // 8, 8, 8).transpose(2, 3).reshape(b, h, w)


def diffjpeg_compress(x: Tensor, quality: Tensor, differentiable: bool = False) -> Tensor:
    """JPEG-code (B,3,H,W) ``x`` in [0, 1] as BasicSR's DiffJPEG with (B,) float ``quality``; returns (B,3,H,W)
    in [0, 1] in ``x``'s dtype (computed in float32, as DiffJPEG)."""
    b, _, h, w = x.shape
    dev = x.device
    factor = quality_factor(quality.to(dev).reshape(-1).expand(b))[:, None]
    pad_h, pad_w = -h % 16, -w % 16
    img = F.pad(x.to(torch.float32), (0, pad_w, 0, pad_h)) * 255  # zeros: DiffJPEG's padding
    hp, wp = img.shape[-2:]
    ycc = _colour(img.permute(0, 2, 3, 1).reshape(b, -1, 3), _const("to_ycbcr", dev))
    ycc = ycc + torch.tensor([0.0, 128.0, 128.0], device=dev)
    ycc = ycc.reshape(b, hp, wp, 3)
    chroma = F.avg_pool2d(ycc[..., 1:].permute(0, 3, 1, 2), 2)  # (B, 2, H/2, W/2)
    rounding = "cubic" if differentiable else "round"
    luma = _code_plane(ycc[..., 0], _const("table_y", dev) * factor, rounding)
    table_c = (_const("table_c", dev) * factor).repeat_interleave(2, 0)
    chroma = _code_plane(chroma.reshape(b * 2, hp // 2, wp // 2), table_c, rounding).reshape(b, 2, hp // 2, wp // 2)
    chroma = chroma.repeat_interleave(2, -2).repeat_interleave(2, -1)
    ycc = torch.cat([luma[:, None], chroma], 1).permute(0, 2, 3, 1)
    ycc = ycc + torch.tensor([0.0, -128.0, -128.0], device=dev)
    rgb = _colour(ycc.reshape(b, -1, 3), _const("to_rgb", dev)).reshape(b, hp, wp, 3).permute(0, 3, 1, 2)
    return (rgb.clamp(0.0, 255.0) / 255)[..., :h, :w].to(x.dtype)
