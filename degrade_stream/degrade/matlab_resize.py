"""MATLAB's ``imresize`` (bicubic, with anti-aliasing) as per-axis matrices: BSRGAN's pre-halving uses it
(cszn/KAIR ``utils/utils_image.py`` ``imresize_np(img, 1/2, True)``; the same algorithm as BasicSR's
``basicsr/utils/matlab_functions.py`` ``imresize``).

Output pixel i (1-based) centres at u = i / s + (1 - 1/s) / 2 for scale s; the kernel is Keys' cubic with
a = -0.5, widened by 1/s when shrinking (k(x) = s cubic(s x), support 4/s); each row of weights is normalised
to sum 1; positions past either edge read the image mirrored with the edge pixel repeated (MATLAB's
'symmetric' padding). Written from that description, no code copied; ``tests/test_degrade_opencv_resize.py``
compares with BasicSR's ``imresize``.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor


def _cubic(x: Tensor) -> Tensor:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's 'bicubic')."""
    ax = x.abs()
    near = (1.5 * ax ** 3 - 2.5 * ax ** 2 + 1) * (ax <= 1)
    far = (-0.5 * ax ** 3 + 2.5 * ax ** 2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))
    return near + far


def _mirror(index: Tensor, n: int) -> Tensor:
    """0-based positions mirrored into [0, n) with the edge repeated (MATLAB 'symmetric'), for any distance."""
    period = 2 * n
    m = torch.remainder(index, period)
    return torch.where(m >= n, period - 1 - m, m)


def matlab_matrix(n_in: int, n_out: int, scale: float, antialias: bool = True, device: torch.device | str = "cpu",
                  dtype: torch.dtype = torch.float32) -> Tensor:
    """(n_out, n_in) matrix of MATLAB ``imresize(..., scale, 'bicubic')`` along one axis (float64 weights)."""
    width = 4.0 / scale if (scale < 1 and antialias) else 4.0
    u = torch.arange(1, n_out + 1, dtype=torch.float64) / scale + 0.5 * (1 - 1 / scale)
    left = torch.floor(u - width / 2)
    taps = math.ceil(width) + 2
    index = left[:, None] + torch.arange(taps, dtype=torch.float64)[None]  # 1-based
    distance = u[:, None] - index
    weights = scale * _cubic(distance * scale) if (scale < 1 and antialias) else _cubic(distance)
    weights = weights / weights.sum(1, keepdim=True)
    matrix = torch.zeros(n_out, n_in, dtype=torch.float64)
    matrix.scatter_add_(1, _mirror(index.long() - 1, n_in), weights)
    return matrix.to(device=device, dtype=dtype)


def matlab_resize(x: Tensor, scale: float) -> Tensor:
    """MATLAB ``imresize(x, scale)`` (bicubic, anti-aliased) of a (B, C, H, W) batch: ceil(H s) x ceil(W s)."""
    h, w = x.shape[-2:]
    rows = matlab_matrix(h, math.ceil(h * scale), scale, device=x.device, dtype=x.dtype)
    cols = matlab_matrix(w, math.ceil(w * scale), scale, device=x.device, dtype=x.dtype)
    return rows @ x @ cols.T
