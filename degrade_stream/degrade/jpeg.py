"""JPEG compression (baseline, 4:2:0) with a per-sample quality, batched, and block-local.

Written here rather than taken from kornia's ``jpeg_codec_differentiable`` because the degradation
models run JPEG on ragged batches (each sample valid in the top-left part of a shared canvas, see
``canvas.py``): that needs every step to stay inside a sample's own 16x16 macroblocks. kornia resamples
chroma with an anti-aliased bilinear filter, which reads across macroblock borders, and checks the
quality with ``.item()`` (a host sync per call). Here, as libjpeg does without "fancy" upsampling,
chroma is averaged over 2x2 pixels and upsampled by replication.

Steps (ITU-T T.81): RGB -> YCbCr (JFIF, Annex K tables), chroma 2x2 average, level shift, 8x8 DCT-II,
quantisation with the Annex K tables scaled by the IJG quality rule, dequantisation, inverse DCT,
chroma replication, YCbCr -> RGB, clamp. Padding choice: H and W are padded up to multiples of 16 by
replicating the last row/column, as libjpeg does for partial macroblocks (BasicSR's DiffJPEG pads with
zeros, which darkens the right/bottom blocks); the padding is cropped off again.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

# JPEG Annex K.1 luminance and chrominance quantisation tables
QT_Y = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
         14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
         49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
QT_C = [17, 18, 24, 47] + [99] * 4 + [18, 21, 26, 66] + [99] * 4 + [24, 26, 56] + [99] * 5 + [47, 66] + [99] * 6 + [99] * 32


_BASE_TABLES: dict[tuple[torch.device, torch.dtype], Tensor] = {}


def _base_tables(device: torch.device, dtype: torch.dtype) -> Tensor:
    """(2, 8, 8) Annex K tables on ``device``, made once per device (a host-to-device copy can wait on the GPU)."""
    key = (device, dtype)
    if key not in _BASE_TABLES:
        _BASE_TABLES[key] = torch.tensor([QT_Y, QT_C], dtype=dtype).reshape(2, 8, 8).to(device)
    return _BASE_TABLES[key]


def quality_tables(quality: Tensor) -> tuple[Tensor, Tensor]:
    """(B, 8, 8) luma and chroma tables for per-sample ``quality`` in [1, 100] (IJG ``jpeg_quality_scaling``)."""
    q = quality.clamp(1.0, 100.0)[:, None, None, None]
    scale = torch.where(q < 50, 5000.0 / q, 200.0 - 2.0 * q)
    tables = torch.floor((_base_tables(quality.device, quality.dtype)[None] * scale + 50.0) / 100.0).clamp(1.0, 255.0)
    return tables[:, 0], tables[:, 1]


def _dct_matrix(device: torch.device, dtype: torch.dtype) -> Tensor:
    """Orthonormal 8x8 DCT-II matrix D (coefficients = D @ block @ D^T)."""
    k = torch.arange(8, device=device, dtype=dtype)
    d = torch.cos((2 * k[None, :] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    d[0] = d[0] / math.sqrt(2)
    return d


def _quantise_blocks(plane: Tensor, table: Tensor, dct2: Tensor) -> Tensor:
    """2-D DCT, quantise with (B,8,8) ``table``, dequantise and invert, on (B, H, W) planes (multiples of 8).

    Each 8x8 block is flattened to 64 values and transformed by ``dct2`` = kron(D, D) in one matrix
    product per plane (much faster than many tiny 8x8 products). ``bmm`` keeps one (blocks, 64) x (64, 64)
    product per plane, so a plane's arithmetic has the same shape alone or in any batch (a plain ``@``
    would fold the batch into one larger product)."""
    b, h, w = plane.shape
    blocks = plane.reshape(b, h // 8, 8, w // 8, 8).transpose(2, 3).reshape(b, -1, 64)
    coef = torch.bmm(blocks, dct2.T.expand(b, 64, 64))
    steps = table.reshape(b, 1, 64)
    coef = torch.round(coef / steps) * steps
    return torch.bmm(coef, dct2.expand(b, 64, 64)).reshape(b, h // 8, w // 8, 8, 8).transpose(2, 3).reshape(b, h, w)


def jpeg_compress(x: Tensor, quality: Tensor) -> Tensor:
    """JPEG-code (B,3,H,W) ``x`` in [0,1] with (B,) ``quality`` in [1, 100]; returns (B,3,H,W) in [0,1]."""
    b, _, h, w = x.shape
    dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    qualities = quality.to(device=x.device, dtype=dtype).reshape(-1).expand(b)
    pad_h, pad_w = -h % 16, -w % 16  # up to whole 16x16 macroblocks
    img = F.pad(x.to(dtype).clamp(0.0, 1.0), (0, pad_w, 0, pad_h), mode="replicate") * 255.0
    red, green, blue = img[:, 0], img[:, 1], img[:, 2]
    y = 0.299 * red + 0.587 * green + 0.114 * blue
    cb = -0.168736 * red - 0.331264 * green + 0.5 * blue  # level-shifted chroma (128 subtracted)
    cr = 0.5 * red - 0.418688 * green - 0.081312 * blue
    chroma = F.avg_pool2d(torch.stack([cb, cr], 1), 2)  # (B, 2, H/2, W/2)
    qt_y, qt_c = quality_tables(qualities)
    dct = _dct_matrix(x.device, dtype)
    dct2 = torch.kron(dct, dct)  # flattened 8x8 block -> 64 coefficients
    y = _quantise_blocks(y - 128.0, qt_y, dct2) + 128.0
    coded = _quantise_blocks(chroma.reshape(b * 2, *chroma.shape[-2:]), qt_c.repeat_interleave(2, 0), dct2)
    coded = coded.reshape(b, 2, *chroma.shape[-2:]).repeat_interleave(2, -2).repeat_interleave(2, -1)
    cb, cr = coded[:, 0], coded[:, 1]
    rgb = torch.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], 1)
    return (rgb[..., :h, :w] / 255.0).clamp(0.0, 1.0).to(x.dtype)
