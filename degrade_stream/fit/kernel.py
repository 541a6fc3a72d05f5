"""The blur kernel of an aligned pair by regularised least squares, one kernel per colour channel.

Model: L_c = k_c (x) X_c (cross-correlation, 'valid' region), X = H after its colour map (colour.py) and,
for pairs at different scales, after an antialiased bicubic resize to the L grid. The data term is taken
on image gradients (x and y differences of X and L): Cho & Lee 2009 ("Fast motion deblurring", Sec. 4)
estimate kernels on derivatives because they are closer to white and the normal equations better
conditioned than on intensities; the DC lost by differencing is fixed by the constraint sum(k) = 1 (as
KernelGAN's sum-of-weights term, Bell-Kligler et al. 2019), enforced exactly through the KKT system.
The regulariser is Tikhonov on the taps (``ridge``) plus a gradient penalty on the kernel (``smooth``),
both scaled by the data's mean diagonal so their strength does not depend on the image's contrast.
Positivity is NOT imposed (KernelGAN and Real-SR (Ji et al. 2020) keep kernels positive): the negative
lobes of an ISP's sharpening must survive.

The normal equations are accumulated from every ``stride``-th output pixel in each direction (by default
about 60k rows per gradient direction, plenty for k^2 unknowns; all pixels of small images): each row of
the design is the k x k neighbourhood, extracted with ``unfold`` (building the Gram matrix exactly from
integral images of shifted products is slower at the sizes of camera images).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..degrade.filtering import filter_per_sample


def auto_stride(pixels: int, rows: int = 60_000) -> int:
    """The stride that keeps about ``rows`` rows per gradient direction (1 for small images)."""
    return max(1, int((pixels / rows) ** 0.5))


def normal_equations(x: Tensor, y: Tensor, size: int, stride: int = 0) -> tuple[Tensor, Tensor, int]:
    """(G, b, n): sums of d d^T and d y over the gradient rows of one channel pair ((H, W) each), every
    ``stride``-th row and column (0: ``auto_stride``); n rows."""
    r = size // 2
    stride = stride or auto_stride(x.numel())
    gram = torch.zeros(size * size, size * size, dtype=torch.float64)
    rhs = torch.zeros(size * size, dtype=torch.float64)
    rows = 0
    for gx, gy in ((x[:, 1:] - x[:, :-1], y[:, 1:] - y[:, :-1]), (x[1:] - x[:-1], y[1:] - y[:-1])):
        h, w = gx.shape
        if h < size or w < size:
            raise ValueError(f"an image of {x.shape[1]}x{x.shape[0]} px is too small for a {size}x{size} kernel")
        design = F.unfold(gx[None, None].float(), size, stride=stride)[0]  # (k*k, n)
        oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
        target = gy[r:r + (oh - 1) * stride + 1:stride, r:r + (ow - 1) * stride + 1:stride].reshape(-1).float()
        gram += (design @ design.T).double()
        rhs += (design @ target).double()
        rows += target.numel()
    return gram, rhs, rows


def _gradient_penalty(size: int) -> Tensor:
    """D^T D for the x and y differences of a size x size kernel (the kernel-smoothness term)."""
    eye = torch.eye(size * size, dtype=torch.float64).reshape(size * size, size, size)
    dx = (eye[:, :, 1:] - eye[:, :, :-1]).reshape(size * size, -1)
    dy = (eye[:, 1:, :] - eye[:, :-1, :]).reshape(size * size, -1)
    return dx @ dx.T + dy @ dy.T


def solve_kernel(gram: Tensor, rhs: Tensor, rows: int, size: int, ridge: float = 1e-3,
                 smooth: float = 1e-2) -> Tensor:
    """(size, size) kernel minimising the regularised least squares subject to sum(k) = 1 (KKT)."""
    n = size * size
    scale = float(torch.diagonal(gram).mean()) / rows
    system = gram / rows + scale * (ridge * torch.eye(n, dtype=torch.float64) + smooth * _gradient_penalty(size))
    ones = torch.ones(n, dtype=torch.float64)
    free = torch.linalg.solve(system, rhs / rows)
    along = torch.linalg.solve(system, ones)
    multiplier = (1.0 - ones @ free) / (ones @ along)
    return (free + multiplier * along).reshape(size, size).to(torch.float32)


def fit_kernels(x: Tensor, y: Tensor, size: int = 15, ridge: float = 1e-3, smooth: float = 1e-2,
                stride: int = 0) -> Tensor:
    """(3, size, size) per-channel kernels explaining (3, H, W) ``y`` as ``x`` blurred."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel size must be odd and >= 1, got {size}")
    return torch.stack([solve_kernel(*normal_equations(x[c], y[c], size, stride), size, ridge, smooth)
                        for c in range(3)])


def apply_kernels(x: Tensor, kernels: Tensor) -> Tensor:
    """(B, 3, H, W) ``x`` filtered channel by channel with per-sample (B, 3, k, k) ``kernels`` (reflect
    padding, size kept; the project's ``filter_per_sample`` on the B*3 planes)."""
    b, c, h, w = x.shape
    k = kernels.shape[-1]
    planes = filter_per_sample(x.reshape(b * c, 1, h, w), kernels.reshape(b * c, k, k).to(x.device))
    return planes.reshape(b, c, h, w)


def kernel_summary(kernel: Tensor) -> dict[str, float]:
    """Centroid offset (px), negative mass (sum of negative taps), and the std radius of the positive part."""
    k = kernel.double()
    size = k.shape[-1]
    coords = torch.arange(size, dtype=torch.float64) - size // 2
    total = float(k.sum())
    cy = float((k.sum(-1) * coords).sum()) / total
    cx = float((k.sum(-2) * coords).sum()) / total
    positive = k.clamp_min(0)
    r2 = coords[:, None] ** 2 + coords[None, :] ** 2
    radius = float(((positive * r2).sum() / positive.sum() / 2).sqrt())
    return {"centroid_y": round(cy, 3), "centroid_x": round(cx, 3),
            "negative_mass": round(float(k.clamp_max(0).sum()), 4), "sigma": round(radius, 3)}
