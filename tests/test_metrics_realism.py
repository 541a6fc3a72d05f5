"""Metrics in-process: Fréchet distance maths, degradation statistics respond to degradations, patches, PSNR."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from degrade_stream.metrics.degradation_stats import FEATURE_NAMES, degradation_stats
from degrade_stream.metrics.frechet import frechet_between, frechet_distance
from degrade_stream.metrics.patches import extract_patches
from degrade_stream.calibrate.report import real_unit_frechet
from degrade_stream.metrics.structure import structure_scores, summarize_psnr


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    mu1, mu2 = torch.tensor([0.0, 1.0]), torch.tensor([1.0, 3.0])
    s1, s2 = torch.diag(torch.tensor([1.0, 4.0])), torch.diag(torch.tensor([9.0, 1.0]))
    # |mu1-mu2|^2 + sum (sqrt(a) - sqrt(b))^2 for commuting (diagonal) covariances
    expected = 1 + 4 + (1 - 3) ** 2 + (2 - 1) ** 2
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_between_identical_sets_is_zero_and_symmetric():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, 5, generator=g)
    b = torch.randn(150, 5, generator=g) * 2 + 1
    assert frechet_between(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_between(a, b) == pytest.approx(frechet_between(b, a), rel=1e-9)
    assert frechet_between(a, b) > 1.0


def _jpeg(patches: torch.Tensor, quality: int) -> torch.Tensor:
    out = []
    for p in patches:
        buffer = io.BytesIO()
        Image.fromarray((p.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(buffer, "JPEG",
                                                                                            quality=quality)
        out.append(torch.from_numpy(np.asarray(Image.open(buffer), dtype=np.float32) / 255).permute(2, 0, 1))
    return torch.stack(out)


def test_degradation_statistics_respond_to_noise_blur_and_jpeg(hq_batch):
    patches = hq_batch[:, :, :32, :32].contiguous()
    g = torch.Generator().manual_seed(1)
    clean = degradation_stats(patches)
    assert clean.shape == (8, len(FEATURE_NAMES)) and torch.isfinite(clean).all()
    noisy = degradation_stats((patches + 0.05 * torch.randn(patches.shape, generator=g)).clamp(0, 1))
    column = FEATURE_NAMES.index
    assert (noisy[:, column("noise_sigma")] > clean[:, column("noise_sigma")]).all()
    assert (noisy[:, column("spectrum_band5")] > clean[:, column("spectrum_band5")]).all()
    blurred = degradation_stats(torch.nn.functional.avg_pool2d(patches, 3, 1, 1, count_include_pad=False))
    assert (blurred[:, column("spectrum_band5")] < clean[:, column("spectrum_band5")]).all()
    blocky = degradation_stats(_jpeg(patches, 10))
    assert blocky[:, column("jpeg_blockiness")].mean() > clean[:, column("jpeg_blockiness")].mean() + 0.2


def test_real_unit_frechet_separates_clean_from_noisy_and_reports_both_feature_sets(hq_batch):
    g = torch.Generator().manual_seed(2)
    crops = hq_batch.unfold(2, 32, 16).unfold(3, 32, 16).permute(0, 2, 3, 1, 4, 5).reshape(-1, 3, 32, 32)
    clean = degradation_stats(crops)
    noisy = degradation_stats((crops + 0.04 * torch.randn(crops.shape, generator=g)).clamp(0, 1))
    same = real_unit_frechet(clean, clean)
    far = real_unit_frechet(clean, noisy)
    assert same["frechet_all"] == pytest.approx(0.0, abs=1e-9)
    assert far["frechet_all"] > 5 and far["frechet_degradation"] > 5


def test_patches_are_distinct_grid_aligned_and_seeded():
    image = torch.arange(3 * 48 * 56, dtype=torch.float32).reshape(3, 48, 56) / (3 * 48 * 56)
    a = extract_patches(image, 16, 10, torch.Generator().manual_seed(0))
    b = extract_patches(image, 16, 10, torch.Generator().manual_seed(0))
    assert a.shape == (10, 3, 16, 16) and torch.equal(a, b)
    origins = set()
    for patch in a:
        flat = int(round(float(patch[0, 0, 0]) * 3 * 48 * 56))
        y, x = divmod(flat, 56)
        assert y % 8 == 0 and x % 8 == 0 and torch.equal(patch, image[:, y:y + 16, x:x + 16])
        origins.add((y, x))
    assert len(origins) == 10
    assert extract_patches(image[:, :8], 16, 4, torch.Generator()).shape[0] == 0


def test_psnr_of_a_known_error_and_the_inconsistency_fraction():
    hq = torch.full((3, 64, 64), 0.5)
    lq = torch.full((3, 16, 16), 0.6)  # HQ is resized to 16x16 first: MSE = 0.01 -> 20 dB
    psnr, ssim = structure_scores(hq, lq)
    assert psnr == pytest.approx(20.0, abs=1e-3) and ssim < 1.0
    summary = summarize_psnr([20.0, 30.0, math.inf], [0.5, 0.9, 1.0])
    assert summary["fraction_below_24db"] == pytest.approx(1 / 3) and summary["psnr_median"] == 30.0


def test_low_rank_frechet_equals_the_full_computation():
    g = torch.Generator().manual_seed(3)
    a = torch.randn(6, 40, generator=g, dtype=torch.float64)  # fewer samples than dimensions
    b = torch.randn(9, 40, generator=g, dtype=torch.float64) * 1.5 + 0.2
    from degrade_stream.metrics.frechet import gaussian_stats

    full = frechet_distance(*gaussian_stats(a), *gaussian_stats(b))
    assert frechet_between(a, b) == pytest.approx(full, rel=1e-7)


@pytest.mark.slow
def test_classifier_two_sample_test_is_seeded_and_separates_noise(hq_batch):
    from degrade_stream.metrics.two_sample import classifier_two_sample_test

    g = torch.Generator().manual_seed(4)
    clean = hq_batch.unfold(2, 32, 32).unfold(3, 32, 32).permute(0, 2, 3, 1, 4, 5).reshape(-1, 3, 32, 32)
    groups = torch.arange(hq_batch.shape[0]).repeat_interleave(clean.shape[0] // hq_batch.shape[0])
    noisy = (clean + 0.05 * torch.randn(clean.shape, generator=g)).clamp(0, 1)
    first = classifier_two_sample_test(clean, noisy, groups, groups, seed=3, steps=40, resamples=50)
    again = classifier_two_sample_test(clean, noisy, groups, groups, seed=3, steps=40, resamples=50)
    assert first == again
    assert first["accuracy"] > 0.8 and first["auc"] > 0.9 and not first["failed"]
