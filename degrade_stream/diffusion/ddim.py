"""DDIM sampling with K steps and eta (Song, Meng, Ermon 2021, eq. 12), from per-sample start steps.

Keeping the batch full: every sample runs the same K network evaluations, each on its own respaced
grid t_i * k / K (k = K..0, rounded up). Where t_i < K the grid repeats a step; such a slot leaves
the sample unchanged (masked), so sample i takes min(K, t_i) real steps and t_i = 0 none. The loop
length is K for every batch: no host sync, static shapes (good for CUDA graphs / torch.compile).
"""
from __future__ import annotations

import torch
from torch import Tensor

from .ancestral import NoiseFn
from .denoiser import Denoiser


def ddim_grid(t: Tensor, k: int, steps: int) -> Tensor:
    """The step of slot k (K..0) on each sample's grid: ceil(t_i * k / K)."""
    return (t * k + steps - 1) // steps


def sample_ddim(denoiser: Denoiser, x_t: Tensor, t: Tensor, steps: int, eta: float = 0.0,
                noise: NoiseFn | None = None) -> Tensor:
    """DDIM from each sample's own t_i to 0 in K = ``steps`` slots; t_i = 0 returns x_t[i] unchanged."""
    if steps < 1:
        raise ValueError(f"DDIM needs steps >= 1, got {steps}")
    if eta > 0 and noise is None:
        raise ValueError("DDIM with eta > 0 needs a noise function")
    sched = denoiser.schedule
    t = t.to(device=x_t.device, dtype=torch.long)
    x = x_t.float()
    for k in range(steps, 0, -1):
        cur = ddim_grid(t, k, steps)
        prev = ddim_grid(t, k - 1, steps)
        active = (cur > prev).view(-1, 1, 1, 1)
        eps = denoiser(x, (cur - 1).clamp(min=0))
        a_t = sched.abar(cur)
        a_prev = sched.abar(prev)
        x0 = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)
        eps = (x - a_t.sqrt() * x0) / (1 - a_t).clamp(min=1e-12).sqrt()  # consistent with the clipped x0
        sigma = eta * ((1 - a_prev) / (1 - a_t).clamp(min=1e-12) * (1 - a_t / a_prev)).clamp(min=0).sqrt()
        x_prev = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).clamp(min=0).sqrt() * eps
        if eta > 0:
            x_prev = x_prev + sigma * noise(k)
        x = torch.where(active, x_prev, x)
    return x.to(x_t.dtype)
