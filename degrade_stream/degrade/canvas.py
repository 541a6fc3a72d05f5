"""Ragged batches: samples of different sizes held in one (B, C, H, W) canvas, each valid in its
top-left (h_i, w_i) corner, so that per-sample resize scales need no loop over samples.

Canvas shapes are fixed by the config, the input size and the sample's own size (never by the rest of the
batch; see ``realesrgan._extents``), so a sample's result does not depend on its batch. Every operation that
reads outside a sample's valid region first fills it: ``fill`` (reflect for filters; edge-replicate or zeros for
JPEG's macroblock padding, as libjpeg or BasicSR's DiffJPEG pad). ``resize`` is a pair of batched matrix products
with per-sample interpolation matrices, each taken from ``F.interpolate`` itself (``resize.interpolation_matrix``:
area; bilinear/bicubic plain or anti-aliased when shrinking), for the sample's own input and output size;
building them needs the sizes and modes on the host.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .resize import MODES, interpolation_matrix


def _reflect(pos: Tensor, n: Tensor) -> Tensor:
    """Mirror positions into [0, n) (edge not repeated), periodically for any distance; n: (B, 1)."""
    period = (2 * (n - 1)).clamp_min(1)
    m = torch.remainder(pos, period)
    m = torch.where(m >= n, period - m, m)
    return torch.where(n == 1, torch.zeros_like(m), m)


def fill(x: Tensor, sizes: Tensor, pad: int = 0, mode: str = "reflect") -> Tensor:
    """Canvas (B,C,H,W) -> (B,C,H+2p,W+2p) whose every pixel outside sample i's valid (h_i, w_i) corner
    (shifted by ``pad``) is its reflection (``"reflect"``), nearest edge pixel (``"replicate"``) or 0 (``"zeros"``,
    no ``pad``)."""
    b, c, h, w = x.shape
    sizes = sizes.to(x.device)
    if mode == "zeros":
        if pad:
            raise ValueError("fill: 'zeros' takes no pad")
        inside = ((torch.arange(h, device=x.device)[None, :, None] < sizes[:, 0, None, None])
                  & (torch.arange(w, device=x.device)[None, None, :] < sizes[:, 1, None, None]))
        return torch.where(inside[:, None], x, torch.zeros((), dtype=x.dtype, device=x.device))

    def index(length: int, n: Tensor) -> Tensor:
        pos = torch.arange(-pad, length + pad, device=x.device)[None, :]
        n = n[:, None]
        return _reflect(pos, n) if mode == "reflect" else pos.clamp(min=0).minimum(n - 1)

    rows = index(h, sizes[:, 0])  # (B, H + 2p)
    cols = index(w, sizes[:, 1])
    x = x.gather(2, rows[:, None, :, None].expand(b, c, rows.shape[1], w))
    return x.gather(3, cols[:, None, None, :].expand(b, c, rows.shape[1], cols.shape[1]))


def resize_matrices(n_in: list[int], n_out: list[int], modes: list[int], in_len: int, out_len: int,
                    device: torch.device, dtype: torch.dtype, antialias: bool = True,
                    scales: list[float] | None = None) -> Tensor:
    """(B, out_len, in_len) per-sample matrices (``resize.interpolation_matrix``), zero past each sample's sizes;
    one built per distinct (sizes, mode, scale). ``scales``: Real-ESRGAN's per-sample ``scale_factor`` form."""
    built: dict[tuple, Tensor] = {}
    mats = []
    per_sample = scales if scales is not None else [None] * len(n_in)
    for key in zip(n_in, n_out, modes, per_sample):
        if key not in built:
            m = interpolation_matrix(key[0], key[1], MODES[key[2]], antialias, key[3], device, dtype)
            built[key] = F.pad(m, (0, in_len - key[0], 0, out_len - key[1]))
        mats.append(built[key])
    return torch.stack(mats)


def resize(x: Tensor, in_sizes: list[list[int]], out_sizes: list[list[int]], modes: list[int],
           out_shape: tuple[int, int], antialias: bool = True, scales: list[float] | None = None) -> Tensor:
    """Resize every sample of canvas ``x`` from its (h, w) in ``in_sizes`` to ``out_sizes`` with its own
    mode (index into ``resize.MODES``), into a new canvas of ``out_shape``: two batched matrix products,
    one (``bmm``) per sample and channel, so a sample's arithmetic has the same shape in any batch.
    ``antialias`` and ``scales`` as ``resize.interpolation_matrix``."""
    dev, dt = x.device, x.dtype
    b, c, h, w = x.shape
    h_mat = resize_matrices([s[0] for s in in_sizes], [s[0] for s in out_sizes], modes, h, out_shape[0], dev, dt,
                            antialias, scales)
    w_mat = resize_matrices([s[1] for s in in_sizes], [s[1] for s in out_sizes], modes, w, out_shape[1], dev, dt,
                            antialias, scales)
    out_h, out_w = out_shape
    rows = torch.bmm(h_mat[:, None].expand(b, c, out_h, h).reshape(b * c, out_h, h), x.reshape(b * c, h, w))
    out = torch.bmm(rows, w_mat.transpose(-1, -2)[:, None].expand(b, c, w, out_w).reshape(b * c, w, out_w))
    return out.reshape(b, c, out_h, out_w)
