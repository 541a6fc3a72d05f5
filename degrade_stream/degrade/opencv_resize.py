"""OpenCV's ``cv2.resize`` for float images (INTER_LINEAR, INTER_CUBIC, INTER_AREA), as per-axis matrices in torch.

BSRGAN (cszn/KAIR ``utils/utils_blindsr.py``) and GFPGAN resize with OpenCV. Its rules, written here from
OpenCV's ``imgproc/src/resize.cpp`` (the float path; no code copied), with s = n_in / n_out per axis:

- ``linear``: sample at (i + 0.5) s - 0.5 with weights (1 - f, f); a position below 0 or past the last pixel takes
  that edge pixel. A fixed 2-tap filter at any scale: no anti-aliasing when shrinking.
- ``cubic``: the same positions, 4 taps of Keys' cubic with a = -0.75, indices clamped to the edge. No
  anti-aliasing either (this is torch's non-anti-aliased bicubic).
- ``area``: when neither axis grows (s >= 1 on both), each output pixel averages the input cells it covers, with
  fractional weights at the cell borders (a box filter: it does anti-alias). When an axis grows, OpenCV uses a
  linear rule with weights f = (i + 1) - (floor(i s) + 1) / s (0 if f <= 0, else its fractional part) on both
  axes: ``area`` then depends on whether the whole resize shrinks, hence ``shrink``.

Each axis is one (n_out, n_in) matrix, applied as two matrix products (OpenCV resizes separably too).
``tests/test_degrade_opencv_resize.py`` compares with ``cv2.resize``.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

#: OpenCV interpolation names as BSRGAN draws them: random.choice([1, 2, 3]) = INTER_LINEAR, INTER_CUBIC, INTER_AREA
CV2_MODES = ("linear", "cubic", "area")
_A = -0.75  # OpenCV's cubic coefficient


def _f32(value: float) -> float:
    """``value`` rounded to float32, as OpenCV stores its offsets and weights."""
    return float(torch.tensor(value, dtype=torch.float32))


def _cubic_weights(f: float) -> list[float]:
    """Keys' cubic (a = -0.75) at offsets -1, 0, 1, 2 from the floor position (OpenCV's interpolateCubic)."""
    w0 = ((_A * (f + 1) - 5 * _A) * (f + 1) + 8 * _A) * (f + 1) - 4 * _A
    w1 = ((_A + 2) * f - (_A + 3)) * f * f + 1
    w2 = ((_A + 2) * (1 - f) - (_A + 3)) * (1 - f) * (1 - f) + 1
    return [w0, w1, w2, 1.0 - w0 - w1 - w2]


def _taps_interp(n_in: int, n_out: int, mode: str, area_rule: bool) -> list[list[tuple[int, float]]]:
    """(index, weight) taps of the linear/cubic rules, or of OpenCV's linear rule for ``area`` on growth."""
    scale = 1.0 / (n_out / n_in)  # OpenCV: scale_x = 1 / inv_scale_x, inv_scale_x = dsize / ssize (double)
    taps = []
    for i in range(n_out):
        if area_rule:
            s = math.floor(i * scale)
            f = _f32((i + 1) - (s + 1) * (n_out / n_in))
            f = 0.0 if f <= 0 else f - math.floor(f)
        else:
            pos = _f32((i + 0.5) * scale - 0.5)
            s = math.floor(pos)
            f = pos - s
        if mode == "cubic":
            taps.append([(min(max(s + k - 1, 0), n_in - 1), w) for k, w in enumerate(_cubic_weights(f))])
            continue
        if s < 0:
            s, f = 0, 0.0
        if s >= n_in - 1:
            s, f = n_in - 1, 0.0
        taps.append([(s, 1.0 - f), (min(s + 1, n_in - 1), f)])
    return taps


def _taps_area(n_in: int, n_out: int) -> list[list[tuple[int, float]]]:
    """(index, weight) taps of OpenCV's area shrink (computeResizeAreaTab): the covered cells, fractional ends."""
    scale = n_in / n_out
    taps = []
    for i in range(n_out):
        start, end = i * scale, i * scale + scale
        width = min(scale, n_in - start)
        first, last = math.ceil(start), math.floor(end)
        last = min(last, n_in - 1)
        first = min(first, last)
        row = []
        if first - start > 1e-3:
            row.append((first - 1, (first - start) / width))
        row += [(j, 1.0 / width) for j in range(first, last)]
        if end - last > 1e-3:
            row.append((last, min(min(end - last, 1.0), width) / width))
        taps.append(row)
    return taps


def opencv_matrix(n_in: int, n_out: int, mode: str, shrink: bool, device: torch.device | str = "cpu",
                  dtype: torch.dtype = torch.float32) -> Tensor:
    """(n_out, n_in) matrix of ``cv2.resize`` along one axis; ``shrink``: neither axis of the resize grows (only
    ``area`` cares)."""
    if mode not in CV2_MODES:
        raise ValueError(f"OpenCV mode must be one of {CV2_MODES}, got {mode!r}")
    if n_in == n_out and (mode != "area" or shrink):
        return torch.eye(n_in, device=device, dtype=dtype)
    if mode == "area" and shrink:
        taps = _taps_area(n_in, n_out)
    else:
        taps = _taps_interp(n_in, n_out, mode, area_rule=mode == "area")
    matrix = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i, row in enumerate(taps):
        for j, weight in row:
            matrix[i, j] += _f32(weight)
    return matrix.to(device=device, dtype=dtype)


def opencv_resize(x: Tensor, size: tuple[int, int], mode: str) -> Tensor:
    """``cv2.resize`` of a (B, C, H, W) batch to ``size`` = (h, w) with ``mode`` in ``CV2_MODES``."""
    h, w = x.shape[-2:]
    if (h, w) == tuple(size):
        return x
    shrink = size[0] <= h and size[1] <= w
    rows = opencv_matrix(h, size[0], mode, shrink, x.device, x.dtype)
    cols = opencv_matrix(w, size[1], mode, shrink, x.device, x.dtype)
    return rows @ x @ cols.T
