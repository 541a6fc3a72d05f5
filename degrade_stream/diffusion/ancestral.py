"""DDPM ancestral sampling from per-sample start steps (Ho et al. 2020, alg. 2, from x_t instead of x_T).

Per-sample t: one shared loop s = max(t) .. 1, and sample i is updated only while s <= t_i. The
batch is sorted by t (descending) once (one host sync per call), so at step s the samples that have
started are a prefix of the sorted batch and the network runs on that prefix only: no work is spent
on samples that have not started yet and no further host syncs are needed.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .denoiser import Denoiser

NoiseFn = Callable[[int], Tensor]  # step -> (B, C, H, W) standard normal noise for that step


def ancestral_step(denoiser: Denoiser, x: Tensor, s: int, z: Tensor | None) -> Tensor:
    """x_{s-1} from x_s: clipped x_0 estimate, posterior mean and the fixed-small variance
    beta~_s = (1 - abar_{s-1}) / (1 - abar_s) beta_s (Ho et al. 2020, eqs. 6-7; diffusers' default)."""
    sched = denoiser.schedule
    n = x.shape[0]
    step = torch.full((n,), s, dtype=torch.long, device=x.device)
    eps = denoiser(x, step - 1)
    x0 = denoiser.clip_x0(sched.predict_x0(x, step, eps))
    abar_t = sched.alphas_cumprod[s]
    abar_prev = sched.alphas_cumprod[s - 1]
    beta = sched.betas[s]
    coef_x0 = abar_prev.sqrt() * beta / (1 - abar_t)
    coef_xt = (1 - beta).sqrt() * (1 - abar_prev) / (1 - abar_t)
    mean = coef_x0 * x0 + coef_xt * x
    if z is None:
        return mean
    var = (1 - abar_prev) / (1 - abar_t) * beta
    return mean + var.sqrt() * z


def sample_ancestral(denoiser: Denoiser, x_t: Tensor, t: Tensor, noise: NoiseFn) -> Tensor:
    """Run sample i's reverse chain from its own t_i down to 0; t_i = 0 returns x_t[i] unchanged."""
    t_host = t.detach().to("cpu", torch.long)  # the one host sync: the loop length and the sort order
    order = torch.argsort(t_host, descending=True, stable=True)
    t_sorted = t_host[order].tolist()
    order_dev = order.to(x_t.device)
    x = x_t[order_dev].float().clone()
    top = t_sorted[0] if t_sorted else 0
    running = 0  # samples with t_i >= s: a prefix of the sorted batch that grows as s descends
    for s in range(top, 0, -1):
        while running < len(t_sorted) and t_sorted[running] >= s:
            running += 1
        z = noise(s)[order_dev[:running]] if s > 1 else None
        x[:running] = ancestral_step(denoiser, x[:running], s, z)
    out = torch.empty_like(x)
    out[order_dev] = x
    return out.to(x_t.dtype)
