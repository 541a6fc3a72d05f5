"""The settings of the shared random steps as small frozen types: what a blur, a resize and a noise step draw from.

The checks of their arguments are declared here once, as annotations (core/validate.py): a stage annotates its
arguments with them (checked when it is built), and ``from_args`` checks raw values with the same ones, each error
naming the argument with an optional suffix such as Real-ESRGAN's second-order ``2``. The settings go to the samplers:
``sample_blur_params`` (blur_kernels.py), ``sample_resize_factor`` (resize.py), ``sample_noise`` and
``sample_gaussian_noise`` (noise.py). Defaults are Real-ESRGAN's first-order x4plus options
(``options/train_realesrnet_x4plus.yml``). The types are frozen, compare by value and pickle, so a stage that
holds them still round-trips through YAML and worker processes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..core.validate import Odd, Probability, Range, Weights, check_value

#: Kernel kinds, in the order of Real-ESRGAN's ``kernel_list``; a sinc kernel is drawn separately (``sinc_prob``).
KINDS = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso")
KERNEL_PAD = 21  # Real-ESRGAN pads every kernel to 21x21
#: Real-ESRGAN x4plus defaults (options/train_realesrnet_x4plus.yml).
DEFAULT_KIND_PROBS = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)

#: ``kind_probs`` of Gaussian kernels only: isotropic and anisotropic weights, then zeros for the other kinds.
_GAUSSIAN_KINDS = 2

# The arguments' checks (core/validate.py), shared by every stage that takes them.
Prob = Annotated[float, Probability()]
#: A [min, max] kernel-size range of odd sizes up to 21.
KernelRange = Annotated[tuple[int, int], Range(low=1, high=KERNEL_PAD), Odd("kernel sizes")]
KindWeights = Annotated[tuple[float, ...], Weights(len(KINDS))]
#: Weights of isotropic and anisotropic Gaussian kernels.
GaussianWeights = Annotated[tuple[float, float], Weights(_GAUSSIAN_KINDS)]
#: Blur sigma (pixels) and the shape betas of generalized-Gaussian / plateau kernels.
ShapeRange = Annotated[tuple[float, float], Range(low=1e-3)]
#: Weights of up / down / keep.
DirectionWeights = Annotated[tuple[float, ...], Weights(3)]
FactorRange = Annotated[tuple[float, float], Range(low=0.01, high=16)]
#: Gaussian sigma (8-bit units) and Poisson scale.
NoiseRange = Annotated[tuple[float, float], Range(low=0)]
#: JPEG quality.
JpegRange = Annotated[tuple[float, float], Range(low=1, high=100)]


@dataclass(frozen=True)
class BlurSettings:
    """A random blur kernel's distribution (Real-ESRGAN Sec. 3.1).

    ``kind_probs``: weights over ``KINDS``; ``sinc_prob``: the chance of a sinc kernel instead;
    ``sigma_range``: Gaussian sigma (pixels) of each axis; ``betag_range`` / ``betap_range``: the shape beta of
    generalized-Gaussian / plateau kernels; ``size_range``: the odd kernel sizes [min, max] (at most 21).
    """

    kind_probs: tuple[float, ...] = DEFAULT_KIND_PROBS
    sinc_prob: float = 0.1
    sigma_range: tuple[float, float] = (0.2, 3.0)
    betag_range: tuple[float, float] = (0.5, 4.0)
    betap_range: tuple[float, float] = (1.0, 2.0)
    size_range: tuple[int, int] = (7, 21)

    @classmethod
    def from_args(cls, kernel_range: tuple[int, int], kernel_prob: tuple[float, ...], sinc_prob: float,
                  blur_sigma: tuple[float, float], betag_range: tuple[float, float],
                  betap_range: tuple[float, float], suffix: str = "") -> BlurSettings:
        """Checked, from Real-ESRGAN-style arguments; errors name ``kernel_range`` (one range for every order)
        and the other arguments + ``suffix``."""
        size_range = check_value("kernel_range", kernel_range, KernelRange)
        return cls(kind_probs=check_value(f"kernel_prob{suffix}", kernel_prob, KindWeights),
                   sinc_prob=check_value(f"sinc_prob{suffix}", sinc_prob, Prob),
                   sigma_range=check_value(f"blur_sigma{suffix}", blur_sigma, ShapeRange),
                   betag_range=check_value(f"betag_range{suffix}", betag_range, ShapeRange),
                   betap_range=check_value(f"betap_range{suffix}", betap_range, ShapeRange),
                   size_range=size_range)

    @classmethod
    def gaussian(cls, kernel_range: tuple[int, int], iso_aniso_prob: tuple[float, float],
                 blur_sigma: tuple[float, float], suffix: str = "") -> BlurSettings:
        """Checked isotropic / anisotropic Gaussian kernels only (weights ``iso_aniso_prob``, never sinc), as the
        classical model draws; errors name ``kernel_range``, ``iso_aniso_prob``, ``blur_sigma`` + ``suffix``."""
        size_range = check_value(f"kernel_range{suffix}", kernel_range, KernelRange)
        weights = check_value(f"iso_aniso_prob{suffix}", iso_aniso_prob,
                              Annotated[tuple[float, ...], Weights(_GAUSSIAN_KINDS)])
        return cls.of_gaussian(size_range, weights, check_value(f"blur_sigma{suffix}", blur_sigma, ShapeRange))

    @classmethod
    def of_gaussian(cls, size_range: tuple[int, int], iso_aniso_prob: tuple[float, float],
                    sigma_range: tuple[float, float]) -> BlurSettings:
        """Isotropic / anisotropic Gaussian kernels only (never sinc), from checked values."""
        return cls(kind_probs=tuple(iso_aniso_prob) + (0.0,) * (len(KINDS) - _GAUSSIAN_KINDS), sinc_prob=0.0,
                   sigma_range=sigma_range, size_range=size_range)


@dataclass(frozen=True)
class ResizeSettings:
    """Real-ESRGAN's random resize factor (``updown_type``): ``direction_probs`` weights up / down / keep; up
    draws the factor from U(1, max), down from U(min, 1), with [min, max] = ``factor_range``."""

    direction_probs: tuple[float, float, float] = (0.2, 0.7, 0.1)
    factor_range: tuple[float, float] = (0.15, 1.5)

    @classmethod
    def from_args(cls, resize_prob: tuple[float, ...], resize_range: tuple[float, float],
                  suffix: str = "") -> ResizeSettings:
        """Checked; errors name ``resize_prob`` / ``resize_range`` + ``suffix``."""
        return cls(direction_probs=check_value(f"resize_prob{suffix}", resize_prob, DirectionWeights),
                   factor_range=check_value(f"resize_range{suffix}", resize_range, FactorRange))


@dataclass(frozen=True)
class NoiseSettings:
    """Real-ESRGAN's random noise: Gaussian with probability ``gaussian_prob`` (else Poisson), Gaussian sigma in
    8-bit units from ``sigma_range``, Poisson scale from ``poisson_range``, one field for all channels (gray) with
    probability ``gray_prob``."""

    gaussian_prob: float = 0.5
    sigma_range: tuple[float, float] = (1.0, 30.0)
    poisson_range: tuple[float, float] = (0.05, 3.0)
    gray_prob: float = 0.4

    @classmethod
    def from_args(cls, gaussian_noise_prob: float, noise_range: tuple[float, float],
                  poisson_scale_range: tuple[float, float], gray_noise_prob: float, suffix: str = "") -> NoiseSettings:
        """Checked; errors name each argument + ``suffix``."""
        return cls(gaussian_prob=check_value(f"gaussian_noise_prob{suffix}", gaussian_noise_prob, Prob),
                   sigma_range=check_value(f"noise_range{suffix}", noise_range, NoiseRange),
                   poisson_range=check_value(f"poisson_scale_range{suffix}", poisson_scale_range, NoiseRange),
                   gray_prob=check_value(f"gray_noise_prob{suffix}", gray_noise_prob, Prob))

    @classmethod
    def gaussian(cls, noise_range: tuple[float, float], gray_noise_prob: float, suffix: str = "") -> NoiseSettings:
        """Checked Gaussian noise only (no Poisson), as the classical model draws with ``sample_gaussian_noise``;
        errors name ``noise_range`` / ``gray_noise_prob`` + ``suffix``."""
        return cls(gaussian_prob=1.0, sigma_range=check_value(f"noise_range{suffix}", noise_range, NoiseRange),
                   poisson_range=(0.0, 0.0), gray_prob=check_value(f"gray_noise_prob{suffix}", gray_noise_prob, Prob))
