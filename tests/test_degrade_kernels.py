"""Blur and sinc kernels: normalisation, closed forms on the grid, per-sample sizes, and BasicSR parity."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from conftest import require_framework
from degrade_stream.core.random import SampleRandom
from degrade_stream.degrade.blur_kernels import KINDS, SINC, build_blur_kernels, sample_blur_params
from degrade_stream.degrade.settings import BlurSettings
from degrade_stream.degrade.sinc_kernel import sinc_kernels


def _params(kind, size=21, sx=2.0, sy=2.0, theta=0.0, beta=1.0, omega=1.0):
    t = lambda v: torch.tensor([v], dtype=torch.float32)  # noqa: E731
    return {"kind": torch.tensor([kind]), "size": torch.tensor([size]), "sigma_x": t(sx), "sigma_y": t(sy),
            "theta": t(theta), "beta": t(beta), "omega": t(omega)}


def _basicsr_degradations():
    from degrade_stream import compat
    return require_framework("basicsr.data.degradations", prepare=compat.alias_torchvision_functional_tensor)


def test_sampled_kernels_sum_to_one_and_vanish_outside_their_size():
    params = sample_blur_params(SampleRandom(torch.arange(64)), BlurSettings(sinc_prob=0.2))
    kernels = build_blur_kernels(params, 21)
    assert kernels.shape == (64, 21, 21)
    assert torch.allclose(kernels.sum((1, 2)), torch.ones(64), atol=1e-5)
    for k, size in zip(kernels, params["size"].tolist()):
        off = (21 - size) // 2
        inner = k[off:21 - off, off:21 - off]
        assert inner.sum() == pytest.approx(1.0, abs=1e-5)
        outside = k.clone()
        outside[off:21 - off, off:21 - off] = 0
        assert torch.count_nonzero(outside) == 0  # nothing outside its own size
    assert len(set(params["size"].tolist())) > 3 and len(set(params["kind"].tolist())) > 3


def test_isotropic_gaussian_matches_closed_form():
    sigma = 1.7
    k = build_blur_kernels(_params(0, size=15, sx=sigma, sy=sigma), 15)[0]
    ax = np.arange(15) - 7.0
    ref = np.exp(-(ax[None] ** 2 + ax[:, None] ** 2) / (2 * sigma ** 2))
    np.testing.assert_allclose(k.numpy(), ref / ref.sum(), atol=1e-6)


def test_anisotropic_rotation_by_quarter_turn_transposes():
    a = build_blur_kernels(_params(1, sx=3.0, sy=0.8, theta=0.0), 21)[0]
    b = build_blur_kernels(_params(1, sx=3.0, sy=0.8, theta=math.pi / 2), 21)[0]
    assert torch.allclose(a, b.T, atol=1e-6)
    assert (a[10, :] > a[:, 10] + 1e-4).any()  # theta 0: spread along x (columns)


def test_plateau_and_generalized_with_beta_one_have_their_closed_forms():
    sx = sy = 2.0
    ax = np.arange(21) - 10.0
    q = (ax[None] ** 2 + ax[:, None] ** 2) / sx ** 2
    gen = build_blur_kernels(_params(2, sx=sx, sy=sy, beta=1.0), 21)[0].numpy()
    ref = np.exp(-0.5 * q)
    np.testing.assert_allclose(gen, ref / ref.sum(), atol=1e-6)
    plat = build_blur_kernels(_params(4, sx=sx, sy=sy, beta=1.5), 21)[0].numpy()
    ref = 1 / (q ** 1.5 + 1)
    np.testing.assert_allclose(plat, ref / ref.sum(), atol=1e-6)


def test_sinc_kernel_low_cutoff_is_wider_and_sums_to_one():
    k = sinc_kernels(torch.tensor([math.pi / 5, math.pi]), torch.tensor([21, 21]))
    assert torch.allclose(k.sum((1, 2)), torch.ones(2), atol=1e-5)
    assert k[0, 10, 10] < k[1, 10, 10]  # lower cutoff spreads the mass
    # cutoff pi on the integer grid is (almost) a delta: J1(pi r) ~ 0 only at r = 0 is 1
    assert k[1, 10, 10] > 0.5


def _f32(v: float) -> float:
    return float(np.float32(v))  # parameters both sides can hold exactly: ours are float32 draws


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
def test_kernels_equal_basicsr_bit_for_bit_given_the_same_parameters():
    deg = _basicsr_degradations()
    rng = np.random.default_rng(0)
    for trial in range(60):
        kind, size = trial % 6, int(rng.choice(np.arange(7, 22, 2)))
        sx, sy, beta = (_f32(v) for v in (*rng.uniform(0.2, 3, 2), rng.uniform(0.5, 4)))
        theta = _f32(rng.uniform(-math.pi, math.pi))
        if kind % 2 == 0:  # isotropic kinds: one sigma, no rotation
            sy, theta = sx, 0.0
        ref = {0: lambda: deg.bivariate_Gaussian(size, sx, sy, theta, isotropic=True),
               1: lambda: deg.bivariate_Gaussian(size, sx, sy, theta, isotropic=False),
               2: lambda: deg.bivariate_generalized_Gaussian(size, sx, sy, theta, beta, isotropic=True),
               3: lambda: deg.bivariate_generalized_Gaussian(size, sx, sy, theta, beta, isotropic=False),
               4: lambda: deg.bivariate_plateau(size, sx, sy, theta, beta, isotropic=True),
               5: lambda: deg.bivariate_plateau(size, sx, sy, theta, beta, isotropic=False)}[kind]()
        pad = (21 - size) // 2  # as RealESRGANDataset pads, then torch.FloatTensor
        ref = torch.FloatTensor(np.pad(ref, ((pad, pad), (pad, pad))))
        ours = build_blur_kernels(_params(kind, size=size, sx=sx, sy=sy, theta=theta, beta=beta), 21)[0]
        assert torch.equal(ours, ref), (KINDS[kind], size, sx, sy, theta, beta)
    for size, omega in ((13, 1.3), (7, 2.9), (21, 0.7), (15, 0.9), (9, 1.9)):  # sinc: J1 by Bessel's integral
        ref = torch.FloatTensor(deg.circular_lowpass_kernel(_f32(omega), size, pad_to=21))
        assert torch.equal(build_blur_kernels(_params(SINC, size=size, omega=_f32(omega)), 21)[0], ref), size
        assert torch.equal(sinc_kernels(torch.tensor([_f32(omega)]), torch.tensor([size]))[0], ref), size


def test_bessel_j1_matches_scipy():
    from degrade_stream.degrade.sinc_kernel import bessel_j1
    special = require_framework("scipy.special")
    x = torch.linspace(0.0, 50.0, 20001, dtype=torch.float64)
    assert (bessel_j1(x) - torch.from_numpy(special.j1(x.numpy()))).abs().max() < 1e-14


def _widths(kernels: np.ndarray) -> np.ndarray:
    ax = np.arange(kernels.shape[-1]) - kernels.shape[-1] // 2
    r2 = ax[None, :] ** 2 + ax[:, None] ** 2
    return np.sqrt((kernels * r2).sum((-2, -1)))


@pytest.mark.slow
def test_sampler_distribution_matches_basicsr_random_mixed_kernels():
    deg = _basicsr_degradations()
    n = 2000  # BasicSR draws (slow); ours are cheap, so 10x more keeps the comparison's noise BasicSR's alone
    probs = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    params = sample_blur_params(SampleRandom(torch.arange(10 * n) + 7),
                                BlurSettings(kind_probs=probs, sinc_prob=0.0, size_range=(21, 21)))
    ours = _widths(build_blur_kernels(params, 21).numpy())
    state, py_state = np.random.get_state(), random.getstate()
    np.random.seed(0)
    random.seed(0)
    try:
        ref = np.stack([deg.random_mixed_kernels(list(KINDS), list(probs), 21, (0.2, 3), (0.2, 3), (-math.pi, math.pi),
                                                 (0.5, 4), (1, 2), noise_range=None) for _ in range(n)])
    finally:
        np.random.set_state(state)
        random.setstate(py_state)
    ref = _widths(ref)  # standard error of its mean ~1.2%, of its std ~2%
    assert ours.mean() == pytest.approx(ref.mean(), rel=0.04)
    assert ours.std() == pytest.approx(ref.std(), rel=0.06)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_kernels_on_cuda_equal_cpu():
    seeds = torch.arange(16)
    cpu = build_blur_kernels(sample_blur_params(SampleRandom(seeds), BlurSettings(sinc_prob=0.3)))
    gpu = build_blur_kernels(sample_blur_params(SampleRandom(seeds, device="cuda"), BlurSettings(sinc_prob=0.3)))
    assert gpu.device.type == "cuda" and torch.allclose(cpu, gpu.cpu(), atol=1e-5)


def test_mask_and_normalise_keeps_each_samples_centred_square():
    from degrade_stream.degrade.kernel_grid import mask_and_normalise
    out = mask_and_normalise(torch.ones(3, 7, 7), torch.tensor([1, 3, 7]))
    assert torch.count_nonzero(out, dim=(1, 2)).tolist() == [1, 9, 49]
    assert out[0, 3, 3] == 1.0 and out[1, 2:5, 2:5].eq(out[1, 3, 3]).all() and out[2].eq(out[2, 0, 0]).all()
    assert out[1, 3, 3].item() == pytest.approx(1 / 9, rel=1e-7) and out[2, 0, 0].item() == pytest.approx(1 / 49, rel=1e-7)
