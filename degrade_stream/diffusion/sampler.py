"""The sampler: one reverse step of the diffusion, x_s -> x_{s-1}, and the loops that run it from per-sample start
steps. The schedule tables are in schedule.py and the model (eps from x_t) in denoiser.py; everything a reverse
step does with them is here: the x_0 estimate, its clipping to the image range (``clip_x0``), and the DDPM
ancestral step and the DDIM step.

DDPM ancestral sampling (Ho et al. 2020, alg. 2, from x_t instead of x_T; ``sample_ancestral``): one shared
loop s = max(t) .. 1, and sample i is updated only while s <= t_i. The batch is sorted by t (descending) once
(one host sync per call), so at step s the samples that have started are a prefix of the sorted batch and the
network runs on that prefix only.

DDIM with eta (Song, Meng, Ermon 2021, eq. 12), from per-sample start steps, shares a batch in two ways.
Fixed slots (``sample_ddim``): every sample runs the same K network evaluations, each on its own respaced grid
t_i * k / K (k = K..0, rounded up). Where t_i < K the grid repeats a step; such a slot leaves the sample
unchanged (masked), so sample i takes min(K, t_i) real steps and t_i = 0 none. The loop length is K for every
batch: no host sync, static shapes (good for CUDA graphs / torch.compile), but every sample pays for K
evaluations whatever its t.

Cost that follows t (``sample_ddim_per_t``): sample i takes K_i = min(ceil(t_i / t_per_step), cap) steps on its
own grid ceil(t_i k / K_i), k = K_i..0, so its trajectory depends only on t_i, t_per_step and the cap. The batch
is sorted by K_i (descending) once on the host, so at step j the samples still running are a prefix of the
sorted batch: the network runs on that prefix only, with the per-step timestep tables planned once and no host
sync inside the loop. t_i = 0 costs nothing. With t_per_step = 1 and cap = K the grids (hence the results, for
eta = 0) are those of ``sample_ddim``.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .colour_space import ColourSpace
from .denoiser import Denoiser

NoiseFn = Callable[[int], Tensor]  # step -> (B, C, H, W) standard normal noise for that step


def clip_x0(space: ColourSpace, x0: Tensor) -> Tensor:
    """An x_0 estimate (in the model's colour space) clipped to the image cube [-1, 1]^3 in RGB, expressed in
    model space again (for RGB models, a plain clamp)."""
    if space.identity:
        return x0.clamp(-1, 1)
    return space.to_model(space.from_model(x0).clamp(-1, 1))


def ancestral_step(denoiser: Denoiser, x: Tensor, s: int, z: Tensor | None) -> Tensor:
    """x_{s-1} from x_s: clipped x_0 estimate, posterior mean and the fixed-small variance
    beta~_s = (1 - abar_{s-1}) / (1 - abar_s) beta_s (Ho et al. 2020, eqs. 6-7; diffusers' default)."""
    sched = denoiser.schedule
    n = x.shape[0]
    step = torch.full((n,), s, dtype=torch.long, device=x.device)
    eps = denoiser(x, step - 1)
    x0 = clip_x0(denoiser.space, sched.predict_x0(x, step, eps))
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


def ddim_grid(t: Tensor, k: int | Tensor, steps: int | Tensor) -> Tensor:
    """The step of slot k (K..0) on each sample's grid: ceil(t_i * k / K)."""
    return (t * k + steps - 1) // steps


def ddim_step(denoiser: Denoiser, x: Tensor, cur: Tensor, prev: Tensor, eta: float, z: Tensor | None) -> Tensor:
    """x_prev from x at per-sample steps cur -> prev (cur >= 1 where the result is used), eq. 12 of Song et al.
    with the x_0 estimate clipped to the image range (``clip_x0``) and eps recomputed from it
    (diffusers' ``use_clipped_model_output``)."""
    sched = denoiser.schedule
    eps = denoiser(x, (cur - 1).clamp(min=0))
    a_t = sched.abar(cur)
    a_prev = sched.abar(prev)
    x0 = clip_x0(denoiser.space, (x - (1 - a_t).sqrt() * eps) / a_t.sqrt())
    eps = (x - a_t.sqrt() * x0) / (1 - a_t).clamp(min=1e-12).sqrt()  # consistent with the clipped x0
    sigma = eta * ((1 - a_prev) / (1 - a_t).clamp(min=1e-12) * (1 - a_t / a_prev)).clamp(min=0).sqrt()
    x_prev = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).clamp(min=0).sqrt() * eps
    if z is not None:
        x_prev = x_prev + sigma * z
    return x_prev


def _check(steps: int, eta: float, noise: NoiseFn | None) -> None:
    if steps < 1:
        raise ValueError(f"DDIM needs steps >= 1, got {steps}")
    if eta > 0 and noise is None:
        raise ValueError("DDIM with eta > 0 needs a noise function")


def sample_ddim(denoiser: Denoiser, x_t: Tensor, t: Tensor, steps: int, eta: float = 0.0,
                noise: NoiseFn | None = None) -> Tensor:
    """DDIM from each sample's own t_i to 0 in K = ``steps`` slots; t_i = 0 returns x_t[i] unchanged."""
    _check(steps, eta, noise)
    t = t.to(device=x_t.device, dtype=torch.long)
    x = x_t.float()
    for k in range(steps, 0, -1):
        cur = ddim_grid(t, k, steps)
        prev = ddim_grid(t, k - 1, steps)
        active = (cur > prev).view(-1, 1, 1, 1)
        x_prev = ddim_step(denoiser, x, cur, prev, eta, noise(k) if eta > 0 else None)
        x = torch.where(active, x_prev, x)
    return x.to(x_t.dtype)


def steps_per_sample(t: Tensor, t_per_step: int, cap: int) -> Tensor:
    """K_i = min(ceil(t_i / t_per_step), cap): the number of DDIM steps of each sample (0 at t_i = 0)."""
    if t_per_step < 1 or cap < 1:
        raise ValueError(f"DDIM needs t_per_step >= 1 and a step cap >= 1, got {t_per_step} and {cap}")
    t = t.to(torch.long)
    return torch.minimum((t + t_per_step - 1) // t_per_step, torch.full_like(t, cap))


def plan_per_t(t_host: Tensor, t_per_step: int, cap: int) -> tuple[Tensor, list[int], Tensor]:
    """(order, running, grid) for ``sample_ddim_per_t``, computed on the host.

    ``order`` sorts the batch by K_i descending; ``running[j]`` is how many sorted samples take a j-th
    step (a prefix); ``grid[j, :running[j]]`` is their step before it and ``grid[j + 1, :running[j]]``
    after it, on each sample's own grid ceil(t_i k / K_i).
    """
    t_host = t_host.to("cpu", torch.long).reshape(-1)
    k = steps_per_sample(t_host, t_per_step, cap)
    order = torch.argsort(k, descending=True, stable=True)
    t_sorted, k_sorted = t_host[order], k[order]
    top = int(k_sorted[0]) if k_sorted.numel() else 0
    running = [int((k_sorted > j).sum()) for j in range(top)]
    slots = (k_sorted[None, :] - torch.arange(top + 1)[:, None]).clamp(min=0)  # slot K_i - j, at least 0
    grid = ddim_grid(t_sorted[None, :], slots, k_sorted.clamp(min=1)[None, :])
    return order, running, grid


def sample_ddim_per_t(denoiser: Denoiser, x_t: Tensor, t: Tensor, t_per_step: int, cap: int, eta: float = 0.0,
                      noise: NoiseFn | None = None) -> Tensor:
    """DDIM where sample i takes K_i = min(ceil(t_i / t_per_step), cap) steps; only running samples are evaluated.

    ``noise(j)`` (j = 1, 2, ...: the step number counted from each sample's start) gives the (B, C, H, W)
    noise of every sample's j-th step, used only with eta > 0. One read of t on the host per call.
    """
    _check(cap, eta, noise)
    order, running, grid = plan_per_t(t.detach(), t_per_step, cap)
    device = x_t.device
    order_dev = order.to(device)
    grid = grid.to(device)
    x = x_t.float()[order_dev]
    for j, n in enumerate(running):
        z = noise(j + 1)[order_dev[:n]] if eta > 0 else None
        x[:n] = ddim_step(denoiser, x[:n], grid[j, :n], grid[j + 1, :n], eta, z)
    out = torch.empty_like(x)
    out[order_dev] = x
    return out.to(x_t.dtype)
