"""The colour space a DDPM diffuses in: RGB, or YCbCr with the chroma channels scaled up.

Diffusing u = M x instead of x (M a fixed, invertible 3x3 map per pixel) is still a standard DDPM,
in u-space: x_t = M^-1 (sqrt(abar_t) u_0 + sqrt(1 - abar_t) eps). With u = (Y, g Cb, g Cr), the
chroma channels see noise g times smaller relative to their signal, so the chroma noise the
reverse process fails to remove is g times smaller in the image. Real LQ photos have almost no
chroma noise (JPEG's 4:2:0 chroma, camera processing), and leftover diffusion noise shows first in
chroma (measured: an RGB model refining real LQ at t = 25 raised its chroma-noise statistic by
3.6 pooled std). YCbCr: ITU-R BT.601 (the JPEG matrix), on values in [-1, 1].
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

import torch
from torch import Tensor

from ..core.validate import Bounds, check_dataclass

#: The ``chroma_gain`` of a checkpoint or a training recipe.
ChromaGain = Annotated[float, Bounds(low=0.125, high=64.0)]

_BT601 = ((0.299, 0.587, 0.114),
          (-0.168735892, -0.331264108, 0.5),
          (0.5, -0.418687589, -0.081312411))


@lru_cache(maxsize=8)
def _matrices(chroma_gain: float) -> tuple[Tensor, Tensor]:
    """(M, M^-1) in float64 on the CPU for (Y, g Cb, g Cr), computed once per gain."""
    scale = torch.tensor([1.0, chroma_gain, chroma_gain], dtype=torch.float64)[:, None]
    m = scale * torch.tensor(_BT601, dtype=torch.float64)
    return m, torch.linalg.inv(m)


@dataclass(frozen=True)
class ColourSpace:
    """``chroma_gain`` None: RGB (the identity); a number g: (Y, g Cb, g Cr)."""

    chroma_gain: ChromaGain | None = None

    def __post_init__(self) -> None:
        check_dataclass(self)

    @property
    def identity(self) -> bool:
        return self.chroma_gain is None

    def matrix(self) -> Tensor:
        """M (3, 3) in float64: u = M x."""
        if self.identity:
            return torch.eye(3, dtype=torch.float64)
        return _matrices(float(self.chroma_gain))[0]

    def _apply(self, m: Tensor, x: Tensor) -> Tensor:
        return torch.einsum("ij,bjhw->bihw", m.to(device=x.device, dtype=x.dtype), x)

    def to_model(self, x: Tensor) -> Tensor:
        """u = M x for (B, 3, H, W) images in [-1, 1] (returned unchanged for RGB)."""
        return x if self.identity else self._apply(self.matrix(), x)

    def from_model(self, u: Tensor) -> Tensor:
        """x = M^-1 u (returned unchanged for RGB)."""
        return u if self.identity else self._apply(_matrices(float(self.chroma_gain))[1], u)

    def to_dict(self) -> dict:
        return {"chroma_gain": self.chroma_gain}


def colour_space_from_config(config: dict) -> ColourSpace:
    """The colour space recorded in a checkpoint's config.yaml (absent: RGB, every older checkpoint)."""
    return ColourSpace(config.get("chroma_gain"))
