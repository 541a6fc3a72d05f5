"""Noise schedules and q(x_t | x_0) against their closed forms."""
from __future__ import annotations

import math

import pytest
import torch

from diffusion_helpers import single_thread  # noqa: F401  (autouse fixture)
from degrade_stream.diffusion.schedule import (NoiseSchedule, ScheduleConfig, cosine_betas, linear_betas,
                                               make_schedule, sigmoid_betas)


def test_linear_betas_are_the_ddpm_values():
    betas = linear_betas(1000)
    assert betas.shape == (1000,)
    assert betas[0].item() == pytest.approx(1e-4) and betas[-1].item() == pytest.approx(0.02)
    assert torch.allclose(betas[1:] - betas[:-1], torch.full((999,), (0.02 - 1e-4) / 999, dtype=torch.float64))


def test_alphas_cumprod_is_the_product_of_one_minus_beta():
    sched = make_schedule()
    betas = linear_betas(1000)
    for t in (1, 10, 250, 1000):
        expected = math.prod(1 - b for b in betas[:t].tolist())
        assert sched.alphas_cumprod[t].item() == pytest.approx(expected, rel=1e-5)
    assert sched.alphas_cumprod[0].item() == 1.0
    assert sched.alphas_cumprod[1000].item() == pytest.approx(4.04e-5, rel=0.02)  # DDPM's abar_T


def test_cosine_schedule_follows_the_squared_cosine():
    sched = NoiseSchedule(cosine_betas(1000))
    f = lambda t: math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    for t in (1, 100, 500, 900):
        assert sched.alphas_cumprod[t].item() == pytest.approx(f(t) / f(0), rel=1e-4, abs=1e-6)


def test_sigmoid_schedule_follows_its_closed_form():
    sched = make_schedule({"kind": "sigmoid"})  # the path a checkpoint's schedule.kind takes
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    f = lambda t: (sig(3.0) - sig(6.0 * t / 1000 - 3.0)) / (sig(3.0) - sig(-3.0))  # noqa: E731  (Jabri et al., alg. 1)
    for t in (1, 100, 500, 900, 999):
        assert sched.alphas_cumprod[t].item() == pytest.approx(f(t), rel=1e-5)
    assert bool((sched.betas[1:] > 0).all())  # every beta usable: none rounds to 0 at the start
    assert sched.betas[1000].item() == pytest.approx(0.999)  # abar_T = 0 would need beta 1: clipped
    assert sched.alphas_cumprod[1000].item() == pytest.approx(f(999) * 0.001, rel=1e-5)
    assert torch.equal(sched.betas[1:], sigmoid_betas(1000).float())


def test_q_sample_closed_form_and_statistics():
    sched = make_schedule()
    x0 = torch.full((4000, 1, 1, 1), 0.5)
    t = torch.full((4000,), 300)
    noise = torch.randn(4000, 1, 1, 1, generator=torch.Generator().manual_seed(0))
    xt = sched.q_sample(x0, t, noise)
    a = sched.alphas_cumprod[300].item()
    assert torch.allclose(xt, math.sqrt(a) * x0 + math.sqrt(1 - a) * noise, atol=1e-6)
    assert xt.mean().item() == pytest.approx(math.sqrt(a) * 0.5, abs=0.03)
    assert xt.std().item() == pytest.approx(math.sqrt(1 - a), rel=0.05)
    back = sched.predict_x0(xt, t, noise)
    assert torch.allclose(back, x0, atol=1e-5)


def test_q_sample_at_t0_is_the_input():
    sched = make_schedule()
    x0 = torch.rand(2, 3, 8, 8) * 2 - 1
    assert torch.equal(sched.q_sample(x0, torch.zeros(2, dtype=torch.long), torch.randn(2, 3, 8, 8)), x0)


def test_schedule_config_errors_name_the_key():
    with pytest.raises(ValueError, match="schedule.kind"):
        ScheduleConfig.from_dict({"kind": "cosin"})
    with pytest.raises(ValueError, match="schedule.steps"):
        ScheduleConfig.from_dict({"steps": 10})
