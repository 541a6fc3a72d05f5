"""Noise against BasicSR 1.4.2 (basicsr/data/degradations.py, Real-ESRGAN's noise), bit for bit given the same
draws: BasicSR draws from the global generator, ours from a generator seeded per sample; seeding both alike gives
both the same normal field / Poisson stream, and the arithmetic must then agree in every bit."""
from __future__ import annotations

import pytest
import torch

from conftest import require_framework
from degrade_stream.degrade.noise import add_gaussian_noise, add_noise_on_canvas, add_poisson_noise


@pytest.fixture(scope="module")
def degradations():
    from degrade_stream import compat
    return require_framework("basicsr.data.degradations", prepare=compat.alias_torchvision_functional_tensor)


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
@pytest.mark.parametrize("gray", [False, True])
def test_gaussian_noise_equals_basicsr_given_the_same_field(degradations, gray, hq_batch):
    img = hq_batch[:1, :, :40, :52].contiguous()
    for seed, sigma in ((3, 1.7), (11, 29.3)):
        torch.manual_seed(seed)  # BasicSR: randn(h, w) for the gray field first, then randn(1, 3, h, w)
        ref = degradations.add_gaussian_noise_pt(img, sigma=torch.tensor([sigma]),
                                                 gray_noise=torch.tensor([float(gray)]), clip=True, rounds=False)
        # ours: one (3, h, w) field from Generator(seed); gray takes its first (h, w) values, as BasicSR's randn(h, w)
        ours = add_gaussian_noise(img, torch.tensor([sigma]), torch.tensor([gray]), torch.tensor([seed]))
        assert torch.equal(ours, ref)
        params = {"gaussian": torch.tensor([True]), "sigma": torch.tensor([sigma]), "gray": torch.tensor([gray]),
                  "poisson_scale": torch.tensor([1.0]), "noise_seed": torch.tensor([seed])}
        assert torch.equal(add_noise_on_canvas(img, [[40, 52]], params, (40, 52)), ref)  # the noise block's path


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
@pytest.mark.parametrize("gray", [False, True])
def test_poisson_noise_equals_basicsr_given_the_same_stream(degradations, gray, hq_batch):
    img = hq_batch[1:2, :, :33, :47].contiguous()
    for seed, scale in ((5, 0.3), (8, 2.9)):
        torch.manual_seed(seed)
        ref = degradations.add_poisson_noise_pt(img, scale=torch.tensor([scale]),
                                                gray_noise=torch.tensor([float(gray)]), clip=True, rounds=False)
        ours = add_poisson_noise(img, torch.tensor([scale]), torch.tensor([gray]), torch.tensor([seed]))
        assert torch.equal(ours, ref)


def test_poisson_samples_keep_their_own_stream_in_a_batch(hq_batch):
    x = hq_batch[:3, :, :24, :24].contiguous()
    scale, gray, seeds = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([True, False, True]), torch.tensor([1, 2, 3])
    batch = add_poisson_noise(x, scale, gray, seeds)
    for i in range(3):
        assert torch.equal(batch[i:i + 1], add_poisson_noise(x[i:i + 1], scale[i:i + 1], gray[i:i + 1], seeds[i:i + 1]))
