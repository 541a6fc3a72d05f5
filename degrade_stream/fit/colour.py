"""The colour and tone difference between H and L: one affine map per scene, L ~ M [H; 1].

Two lenses and sensors (City100's iPhone pairs) or one camera's ISP give the same scene slightly different
colours. The map is fitted by least squares on ``block``-averaged images, where the blur of the L no
longer matters (a kernel that sums to one leaves block means unchanged), so colour and blur are fitted
apart. It is applied before the kernel (``camera`` stage: colour, then blur, then noise).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def fit_colour(hq: Tensor, lq: Tensor, block: int = 8) -> Tensor:
    """(3, 4) matrix M minimising || avg(L) - M [avg(H); 1] ||^2 over ``block`` x ``block`` averages of two
    (3, H, W) images on one grid."""
    if hq.shape != lq.shape or hq.dim() != 3 or hq.shape[0] != 3:
        raise ValueError(f"fit_colour needs two (3, H, W) images of one size, got {tuple(hq.shape)} and "
                         f"{tuple(lq.shape)}")
    a = F.avg_pool2d(hq[None].double(), block)[0].reshape(3, -1)
    b = F.avg_pool2d(lq[None].double(), block)[0].reshape(3, -1)
    design = torch.cat([a, torch.ones(1, a.shape[1], dtype=a.dtype)]).T  # (N, 4)
    solution = torch.linalg.lstsq(design, b.T).solution  # (4, 3)
    return solution.T.to(torch.float32)


def apply_colour(x: Tensor, matrices: Tensor) -> Tensor:
    """(B, 3, H, W) ``x`` mapped by per-sample (B, 3, 4) affine ``matrices``: out_i = sum_j M_ij x_j + M_i3.

    Written as elementwise products and sums (not a batched matrix product), so a sample's arithmetic does
    not depend on its batch-mates."""
    m = matrices.to(device=x.device, dtype=x.dtype)[:, :, :, None, None]  # (B, 3, 4, 1, 1)
    channels = [m[:, i, 0] * x[:, 0] + m[:, i, 1] * x[:, 1] + m[:, i, 2] * x[:, 2] + m[:, i, 3]
                for i in range(3)]
    return torch.stack(channels, 1)


IDENTITY = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
