"""JPEG compression with a per-sample quality, via kornia's differentiable JPEG codec.

Padding choice: kornia pads H and W up to a multiple of 16 by replicating the last row/column and
crops back, which is what libjpeg does for partial MCUs; BasicSR's DiffJPEG pads with zeros, which
darkens the right/bottom edge blocks of sizes that are not multiples of 16. We keep kornia's
replication. Note: kornia checks the quality range with ``.item()``, one host sync per call.
"""
from __future__ import annotations

from kornia.enhance import jpeg_codec_differentiable
from torch import Tensor


def jpeg_compress(x: Tensor, quality: Tensor) -> Tensor:
    """JPEG-code (B,3,H,W) ``x`` in [0,1] with (B,) ``quality`` in [1, 100]; output in [0,1]."""
    q = quality.to(device=x.device, dtype=x.dtype).reshape(-1)
    return jpeg_codec_differentiable(x.clamp(0.0, 1.0), q).clamp(0.0, 1.0)
