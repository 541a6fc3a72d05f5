"""The settings types of the blur, resize and noise steps: built from each stage's YAML arguments, checked with
errors that name the argument, frozen, and what the samplers draw from."""
from __future__ import annotations

import dataclasses
import pickle

import pytest
import torch

from degrade_stream.core.errors import ConfigError
from degrade_stream.core.random import SampleRandom
from degrade_stream.degrade.blocks import Blur, Noise
from degrade_stream.degrade.classical import Classical
from degrade_stream.degrade.noise import sample_gaussian_noise, sample_noise
from degrade_stream.degrade.realesrgan import RealESRGAN
from degrade_stream.degrade.resize import sample_resize_factor
from degrade_stream.degrade.settings import BlurSettings, NoiseSettings, ResizeSettings


def test_realesrgan_builds_typed_settings_of_both_orders_from_its_arguments():
    model = RealESRGAN(kernel_range=(5, 15), sinc_prob2=0.2, blur_sigma2=(0.3, 1.0), resize_prob=(0.1, 0.8, 0.1),
                       resize_range2=(0.5, 1.1), noise_range2=(2.0, 9.0), gray_noise_prob=0.25)
    assert model.blur1 == BlurSettings(size_range=(5, 15))
    assert model.blur2 == BlurSettings(sinc_prob=0.2, sigma_range=(0.3, 1.0), size_range=(5, 15))
    assert model.resize1 == ResizeSettings(direction_probs=(0.1, 0.8, 0.1), factor_range=(0.15, 1.5))
    assert model.resize2 == ResizeSettings(direction_probs=(0.3, 0.4, 0.3), factor_range=(0.5, 1.1))
    assert model.noise1 == NoiseSettings(gaussian_prob=0.5, sigma_range=(1.0, 30.0), poisson_range=(0.05, 3.0),
                                         gray_prob=0.25)
    assert model.noise2 == NoiseSettings(gaussian_prob=0.5, sigma_range=(2.0, 9.0), poisson_range=(0.05, 2.5),
                                         gray_prob=0.4)


def test_classical_and_building_blocks_share_the_same_types():
    classical = Classical(kernel_range=(3, 9), iso_aniso_prob=(0.6, 0.4), blur_sigma=(0.5, 2.0), noise_range=(1.0, 5.0))
    assert classical.blur == BlurSettings(kind_probs=(0.6, 0.4, 0.0, 0.0, 0.0, 0.0), sinc_prob=0.0,
                                          sigma_range=(0.5, 2.0), size_range=(3, 9))
    assert classical.noise == NoiseSettings(gaussian_prob=1.0, sigma_range=(1.0, 5.0), poisson_range=(0.0, 0.0),
                                            gray_prob=0.4)
    assert Blur(kernel_range=(9, 21), sinc_prob=0.0).kernel == BlurSettings(sinc_prob=0.0, size_range=(9, 21))
    assert Noise(gray_noise_prob=0.0).noise == NoiseSettings(gray_prob=0.0)


def test_settings_are_frozen_and_pickle_by_value():
    settings = NoiseSettings.from_args(0.3, (1, 4), (0.1, 0.2), 0.5)
    assert settings.sigma_range == (1.0, 4.0) and isinstance(settings.sigma_range[0], float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.gray_prob = 0.9  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert hash(settings) == hash(NoiseSettings(0.3, (1.0, 4.0), (0.1, 0.2), 0.5))


@pytest.mark.parametrize("build, key", [
    (lambda: BlurSettings.from_args((7, 21), (1.0,) * 6, 0.1, (0.2, 3.0), (0.5, 4.0), (0.0, 2.0), suffix="2"),
     r"^betap_range2\[0\]: must be >= 0.001, got 0.0$"),
    (lambda: BlurSettings.from_args((7, 20), (1.0,) * 6, 0.1, (0.2, 3.0), (0.5, 4.0), (1.0, 2.0), suffix="2"),
     r"^kernel_range: kernel sizes must be odd, got \[7, 20\]$"),
    (lambda: BlurSettings.gaussian((7, 21), (0.7, 0.2, 0.1), (0.2, 3.0)),
     r"^iso_aniso_prob: expected a list of 2 probabilities, got \(0.7, 0.2, 0.1\)$"),
    (lambda: ResizeSettings.from_args((0.2, 0.7, 0.1), (2.0, 1.0), suffix="2"),
     r"^resize_range2: range low > high: \[2.0, 1.0\]$"),
    (lambda: NoiseSettings.from_args(0.5, (1.0, 30.0), (0.05, 3.0), 1.5, suffix="2"),
     r"^gray_noise_prob2: probability must be a number in \[0, 1\], got 1.5$"),
    (lambda: NoiseSettings.gaussian((-1.0, 3.0), 0.4), r"^noise_range\[0\]: must be >= 0, got -1.0$"),
])
def test_errors_name_the_argument_with_its_suffix(build, key):
    with pytest.raises(ConfigError, match=key):
        build()


def test_resize_factor_follows_the_direction_weights():
    rng = lambda: SampleRandom(torch.arange(256))  # noqa: E731
    up = sample_resize_factor(rng(), ResizeSettings(direction_probs=(1.0, 0.0, 0.0), factor_range=(0.5, 2.0)))
    down = sample_resize_factor(rng(), ResizeSettings(direction_probs=(0.0, 1.0, 0.0), factor_range=(0.5, 2.0)))
    keep = sample_resize_factor(rng(), ResizeSettings(direction_probs=(0.0, 0.0, 1.0), factor_range=(0.5, 2.0)))
    assert up.min() >= 1.0 and up.max() <= 2.0 and up.max() > 1.9
    assert down.min() >= 0.5 and down.max() <= 1.0 and down.min() < 0.6
    assert torch.equal(keep, torch.ones(256))


def test_noise_samplers_draw_from_their_settings():
    seeds = torch.arange(64) + 3
    settings = NoiseSettings(gaussian_prob=1.0, sigma_range=(4.0, 4.0), poisson_range=(0.5, 0.5), gray_prob=0.0)
    full = sample_noise(SampleRandom(seeds), seeds, 1, settings)
    assert full["gaussian"].all() and not full["gray"].any()
    assert torch.equal(full["sigma"], torch.full((64,), 4.0)) and torch.equal(full["poisson_scale"], torch.full((64,), 0.5))
    gaussian = sample_gaussian_noise(SampleRandom(seeds), seeds, 1, settings)
    assert sorted(gaussian) == ["gray", "noise_seed", "sigma"] and torch.equal(gaussian["noise_seed"], full["noise_seed"])


def test_classical_draws_its_noise_with_sample_gaussian_noise():
    model, x, seeds = Classical(), torch.rand(4, 3, 64, 64), torch.tensor([5, 6, 7, 8])
    params = model.sample_params(x, seeds)
    expected = sample_gaussian_noise(SampleRandom(seeds), seeds, 1, model.noise)
    assert all(torch.equal(params[k], v) for k, v in expected.items())
