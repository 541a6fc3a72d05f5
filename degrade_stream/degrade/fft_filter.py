"""Large per-sample blur kernels (GFPGAN's 41 taps) by FFT: the same reflect-padded cross-correlation as
``filtering.filter_per_sample``, at a cost that does not grow with the kernel (a direct 41x41 convolution
costs 1681 multiply-adds per pixel; OpenCV's ``filter2D``, which GFPGAN calls, also switches to a DFT for
kernels this large).

Each sample is transformed on its own (one ``rfft2`` per sample over its three channels), so its result
has the same arithmetic alone or in any batch. On a reflect-padded image of side n + k - 1 the circular
correlation equals the linear one at every output pixel (no output reads past the padded edge), so only
the padded size, rounded up to a 2-3-5-smooth length for a fast transform, is used.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .padding import reflect_pad


def fast_length(n: int) -> int:
    """The smallest length >= n whose prime factors are 2, 3 and 5 (fast for every FFT library)."""
    m = n
    while True:
        r = m
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        if r == 1:
            return m
        m += 1


def filter_fft(x: Tensor, kernels: Tensor) -> Tensor:
    """Filter (B,C,H,W) ``x`` with (B,k,k) ``kernels`` (k odd), reflect-padded so the size is kept."""
    b, c, h, w = x.shape
    k = kernels.shape[-1]
    if kernels.dim() != 3 or kernels.shape[-2] != k or k % 2 == 0 or kernels.shape[0] != b:
        raise ValueError(f"expected (B, k, k) kernels with odd k and B={b}, got {tuple(kernels.shape)}")
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    padded = reflect_pad(x.to(dtype), k // 2)
    size = (fast_length(h + k - 1), fast_length(w + k - 1))
    kern = kernels.to(device=x.device, dtype=dtype)
    out = []
    for i in range(b):
        spectrum = torch.fft.rfft2(padded[i], s=size)
        kernel_spectrum = torch.fft.rfft2(kern[i], s=size)
        # correlation: multiply by the conjugate spectrum of the kernel placed at the origin
        out.append(torch.fft.irfft2(spectrum * kernel_spectrum.conj(), s=size)[:, :h, :w])
    return torch.stack(out).to(x.dtype)
