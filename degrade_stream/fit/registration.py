"""How well an H and its L are registered: phase correlation, globally and per tile.

Phase correlation (Kuglin & Hines 1975, "The phase correlation image alignment method"): the inverse FFT of
the normalised cross-power spectrum F_a conj(F_b) / |F_a conj(F_b)| peaks at the translation between two
images. The peak's height (1 for an exact shift, near 0 for unrelated images) says whether the two show the
same scene at all. Sub-pixel position by a parabola through the peak and its two neighbours on each axis
(a common refinement; Foroosh et al. 2002 derive a closed form for the same purpose). A Hann window removes
the image borders' discontinuity, and a Gaussian low-pass weight on the spectrum keeps the frequencies the
blur of the L has not removed (without it the whitening amplifies noise and the peak of a blurred pair
falls to the level of unrelated images).

Convention: ``shift = (dy, dx)`` means ``lq(p) ~ hq(p - shift)``: the L content lies (dy, dx) further
down/right. Tile shifts measure residual misalignment that one global shift cannot remove (parallax
between two lenses, a rolling shutter, a wrong pair).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

#: luma weights (ITU-R BT.601), as the JPEG and noise stages use
LUMA = (0.299, 0.587, 0.114)


def luma(image: Tensor) -> Tensor:
    """(H, W) luma of a (3, H, W) image."""
    return LUMA[0] * image[0] + LUMA[1] * image[1] + LUMA[2] * image[2]


@dataclass
class Registration:
    """Global shift (dy, dx) in px, its peak height, and the spread of textured tiles' shifts around it."""

    dy: float
    dx: float
    peak: float
    local_error: float  # median over textured tiles of |tile shift - global shift|, px
    local_max: float    # largest such deviation, px
    tiles: int          # textured tiles measured

    @property
    def shift(self) -> float:
        """Length of the global shift in px."""
        return math.hypot(self.dy, self.dx)

    def as_dict(self) -> dict[str, float]:
        return {"dy": round(self.dy, 3), "dx": round(self.dx, 3), "peak": round(self.peak, 4),
                "local_error": round(self.local_error, 3), "local_max": round(self.local_max, 3),
                "tiles": self.tiles}


def _parabola(m1: float, c: float, p1: float) -> float:
    """Offset in [-0.5, 0.5] of the vertex of the parabola through (-1, m1), (0, c), (1, p1)."""
    denom = m1 - 2.0 * c + p1
    return 0.0 if denom >= 0 else max(-0.5, min(0.5, 0.5 * (m1 - p1) / denom))


def phase_correlation(a: Tensor, b: Tensor, cutoff: float = 0.25) -> tuple[float, float, float]:
    """(dy, dx, peak) with ``b(p) ~ a(p - (dy, dx))`` for two (H, W) images; ``cutoff``: the std of the
    Gaussian spectral weight in cycles per pixel."""
    h, w = a.shape
    window = torch.outer(torch.hann_window(h, periodic=False, dtype=torch.float64),
                         torch.hann_window(w, periodic=False, dtype=torch.float64))
    fa = torch.fft.fft2((a.double() - a.double().mean()) * window)
    fb = torch.fft.fft2((b.double() - b.double().mean()) * window)
    cross = fb * fa.conj()
    fy, fx = torch.fft.fftfreq(h, dtype=torch.float64), torch.fft.fftfreq(w, dtype=torch.float64)
    weight = torch.exp(-(fy[:, None] ** 2 + fx[None, :] ** 2) / (2 * cutoff ** 2))
    surface = torch.fft.ifft2(weight * cross / cross.abs().clamp_min(1e-12)).real / weight.mean()
    index = int(torch.argmax(surface))
    y, x = divmod(index, w)
    peak = float(surface[y, x])
    dy = y + _parabola(float(surface[y - 1, x]), peak, float(surface[(y + 1) % h, x]))
    dx = x + _parabola(float(surface[y, x - 1]), peak, float(surface[y, (x + 1) % w]))
    dy = dy - h if dy > h / 2 else dy
    dx = dx - w if dx > w / 2 else dx
    return dy, dx, peak


def register(hq: Tensor, lq: Tensor, tile: int = 128, min_texture: float = 0.02) -> Registration:
    """The registration of a (3, H, W) pair on the same grid: global phase correlation, and per-tile
    correlation on tiles whose luma std exceeds ``min_texture`` (flat tiles have no reliable peak)."""
    a, b = luma(hq), luma(lq)
    dy, dx, peak = phase_correlation(a, b)
    h, w = a.shape
    deviations = []
    for top in range(0, h - tile + 1, tile):
        for left in range(0, w - tile + 1, tile):
            ta, tb = a[top:top + tile, left:left + tile], b[top:top + tile, left:left + tile]
            if float(ta.std()) < min_texture:
                continue
            ty, tx, _ = phase_correlation(ta, tb)
            deviations.append(math.hypot(ty - dy, tx - dx))
    if not deviations:
        return Registration(dy, dx, peak, 0.0, 0.0, 0)
    ordered = sorted(deviations)
    return Registration(dy, dx, peak, ordered[len(ordered) // 2], ordered[-1], len(ordered))


def remove_integer_shift(hq: Tensor, lq: Tensor, dy: float, dx: float) -> tuple[Tensor, Tensor]:
    """The overlapping parts of (C, H, W) ``hq`` and ``lq`` once the whole-pixel part of the shift is
    removed (the sub-pixel rest is left to the kernel, which absorbs it as an off-centre centroid)."""
    iy, ix = int(round(dy)), int(round(dx))
    h, w = hq.shape[-2:]
    hq_rows = slice(max(0, -iy), h - max(0, iy))
    lq_rows = slice(max(0, iy), h - max(0, -iy))
    hq_cols = slice(max(0, -ix), w - max(0, ix))
    lq_cols = slice(max(0, ix), w - max(0, -ix))
    return hq[..., hq_rows, hq_cols], lq[..., lq_rows, lq_cols]
