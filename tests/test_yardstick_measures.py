"""The realism yardstick (issue 20): image-disjoint, fixed units, intervals, null rows, content-matched, scale.

Small synthetic scenes (yardstick_helpers.py): each image has content of its own (a grating of its own
frequency and orientation), degraded by blur + noise. Null cases compare two sets of one degradation;
negative controls a clearly different one.
"""
from __future__ import annotations

import pytest
import torch

from degrade_stream.metrics.image_patches import grid_positions, patch_set
from degrade_stream.metrics.paired import paired_measures
from degrade_stream.metrics.patches import extract_patches
from degrade_stream.metrics.realism import RealReference, Settings, compute_stats
from degrade_stream.metrics.scale import hq_downscale_factor, matched_size, scale_warning, size_distribution
from degrade_stream.metrics.set_distance import kid_resampled
from degrade_stream.metrics.two_sample import classifier_two_sample_test
from degrade_stream.metrics.units import RealUnits
from yardstick_helpers import degrade, named, scene

FAST = Settings(steps=150, resamples=300)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _set(first: int, count: int, prefix: str, **degradation) -> object:
    images = [degrade(scene(first + i), first + i, **degradation) for i in range(count)]
    return patch_set(named(images, prefix), 32, 9, 0)


def test_grid_patches_do_not_overlap_sit_on_the_8px_grid_and_are_seeded():
    for seed in range(5):
        positions = grid_positions(100, 90, 32, 64, torch.Generator().manual_seed(seed))
        again = grid_positions(100, 90, 32, 64, torch.Generator().manual_seed(seed))
        assert positions == again and len(positions) == 6  # (100 - phase) // 32 = 3 rows, 2 columns
        for i, (y, x) in enumerate(positions):
            assert y % 8 == 0 and x % 8 == 0 and y + 32 <= 100 and x + 32 <= 90
            for (v, u) in positions[i + 1:]:
                assert abs(v - y) >= 32 or abs(u - x) >= 32


def test_variants_of_one_hq_image_share_a_group():
    image = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    ps = patch_set([("a_v0", image), ("a_v1", image), ("b", image)], 32, 4, 0)
    assert ps.names == ["a", "b"] and ps.groups.tolist() == [0] * 8 + [1] * 4


@pytest.mark.slow
def test_image_level_null_row_is_at_chance_and_a_different_degradation_is_separated():
    reference = RealReference(_set(0, 16, "r"), FAST)
    null = reference.null
    assert null["classifier"]["accuracy_ci"][0] <= 0.5 <= null["classifier"]["accuracy_ci"][1]
    same = reference.report(_set(100, 8, "s"))["synth"]  # other scenes, the same degradation
    assert same["classifier"]["accuracy_ci"][0] <= 0.5 <= same["classifier"]["accuracy_ci"][1]
    assert same["frechet_degradation"] <= null["frechet_degradation_ci"][1]  # within the floor's interval
    assert same["kid_degradation_ci"][0] <= 0.0
    heavy = reference.report(_set(100, 8, "h", noise=0.08, blur=0.3))["synth"]
    assert heavy["classifier"]["auc_ci"][0] > 0.75 and not heavy["classifier"]["failed"]
    assert heavy["frechet_degradation_ci"][0] > 10 * null["frechet_degradation_ci"][1]
    assert heavy["kid_degradation_ci"][0] > 0


@pytest.mark.slow
def test_content_matched_null_is_at_chance_and_a_different_degradation_is_separated():
    hq = [scene(200 + i) for i in range(12)]
    names = [f"p{i}" for i in range(12)]
    real = [degrade(h, i) for i, h in enumerate(hq)]
    settings = Settings(seed=1, steps=150, resamples=300)
    null = paired_measures(names, real, [degrade(h, 50 + i) for i, h in enumerate(hq)], 32, 9, settings)
    assert null["classifier"]["accuracy_ci"][0] <= 0.5 <= null["classifier"]["accuracy_ci"][1]
    assert null["frechet_degradation"] < 1.0 and null["pair_psnr"] > 28
    heavy = paired_measures(names, real, [degrade(h, 50 + i, noise=0.08, blur=0.3) for i, h in enumerate(hq)],
                            32, 9, settings)
    assert heavy["classifier"]["accuracy_ci"][0] > 0.8
    assert heavy["frechet_degradation_ci"][0] > 100 * null["frechet_degradation_ci"][1]
    assert heavy["pair_psnr_ci"][1] < null["pair_psnr_ci"][0]


@pytest.mark.slow
def test_a_patch_level_split_leaks_content_and_the_image_disjoint_split_does_not():
    """Identical degradation, different content per image: only recognising images can beat chance."""
    images = [degrade(scene(300 + i, 128), 300 + i) for i in range(16)]

    def overlapping(ims: list[torch.Tensor]) -> torch.Tensor:  # the old extraction: overlapping 8-px-grid patches
        return torch.cat([extract_patches(im, 32, 40, torch.Generator().manual_seed(i)) for i, im in enumerate(ims)])

    real, synth = overlapping(images[:8]), overlapping(images[8:])
    per_patch = torch.arange(real.shape[0])  # every patch its own group: the old random patch split
    leaky = classifier_two_sample_test(real, synth, per_patch, per_patch.clone(), seed=0, steps=300, resamples=100)
    by_image = torch.arange(8).repeat_interleave(40)
    disjoint = classifier_two_sample_test(real, synth, by_image, by_image.clone(), seed=0, steps=300, resamples=300)
    assert leaky["accuracy"] > 0.75 and leaky["accuracy_ci"][0] > 0.6
    assert disjoint["accuracy_ci"][0] <= 0.5 <= disjoint["accuracy_ci"][1]


def test_units_are_the_real_sets_alone_and_do_not_move_with_the_synthetic_rows():
    real = compute_stats(_set(0, 6, "r"))
    reference = RealReference(real, Settings(classifier=False, resamples=20))
    mean, std = reference.units.mean.clone(), reference.units.std.clone()
    assert torch.equal(mean, real.stats.mean(0)) and torch.equal(std, real.stats.std(0).clamp(min=1e-8))
    row_before = reference.report(_set(100, 3, "s"))["synth"]
    reference.report(_set(100, 3, "h", noise=0.2, blur=0.3))
    assert torch.equal(reference.units.mean, mean) and torch.equal(reference.units.std, std)
    assert reference.report(_set(100, 3, "s"))["synth"] == row_before  # a wide row in between changed nothing
    pooled = torch.cat([real.stats, compute_stats(_set(100, 3, "h", noise=0.2, blur=0.3)).stats]).std(0)
    assert not torch.allclose(pooled, std)  # pooled units (the old way) would differ


@pytest.mark.slow
def test_a_run_with_one_predicted_class_is_flagged_failed():
    flat = torch.full((40, 3, 32, 32), 0.5)  # zero residual: every logit is the bias, one class
    groups = torch.arange(4).repeat_interleave(10)
    result = classifier_two_sample_test(flat, flat.clone(), groups, groups.clone(), steps=5, resamples=20)
    assert result["failed"] and result["accuracy"] == 0.5
    varied = torch.rand(40, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert not classifier_two_sample_test(flat, varied, groups, groups.clone(), steps=60, resamples=20)["failed"]


def test_kid_is_the_unbiased_u_statistic_and_about_zero_for_one_distribution():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(30, 4, generator=g, dtype=torch.float64), torch.randn(20, 4, generator=g, dtype=torch.float64)
    gx, gy = torch.arange(30) // 3, torch.arange(20) // 2
    ones_x, ones_y = torch.ones(1, 10, dtype=torch.float64), torch.ones(1, 10, dtype=torch.float64)

    def k(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a @ b.T / 4 + 1) ** 3

    kxx, kyy = k(x, x), k(y, y)
    direct = ((kxx.sum() - kxx.trace()) / (30 * 29) + (kyy.sum() - kyy.trace()) / (20 * 19) - 2 * k(x, y).mean())
    assert float(kid_resampled(x, gx, y, gy, ones_x, ones_y)[0]) == pytest.approx(float(direct), rel=1e-10)
    values = torch.stack([kid_resampled(torch.randn(30, 4, generator=g, dtype=torch.float64), gx,
                                        torch.randn(20, 4, generator=g, dtype=torch.float64), gy, ones_x, ones_y)[0]
                          for _ in range(400)])
    assert abs(float(values.mean())) < 3 * float(values.std()) / 20  # mean 0 within 3 standard errors
    shifted = kid_resampled(x, gx, y + 1.0, gy, ones_x, ones_y)[0]
    assert float(shifted) > float(values.mean()) + 5 * float(values.std())


def test_scale_warning_and_the_downscale_factor_never_upscales():
    real = size_distribution([(220, 300), (240, 320), (230, 310)])
    small = size_distribution([(80, 120), (80, 100)])
    assert real["short_side_median"] == 230 and "230 px" in scale_warning(real, small)
    assert scale_warning(real, size_distribution([(200, 260)])) is None
    assert hq_downscale_factor(1024, 230, 4) == pytest.approx(920 / 1024)
    assert hq_downscale_factor(1840, 230, 4) == pytest.approx(0.5)
    assert hq_downscale_factor(321, 230, 4) == 1.0  # small HQ stays small: never upscaled
    assert matched_size(1840, 2000, 0.5, 4) == (920, 1000)
    with pytest.raises(ValueError, match="never upscales"):
        matched_size(100, 100, 1.5)
