"""The face stage (degrade/face.py): per-sample variety, determinism, replay, exact batch independence, output
at the input size, range checks naming the YAML key, and the FFT blur against the direct convolution."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds
from degrade_stream.core.errors import ConfigError
from degrade_stream.core.params import select_params
from degrade_stream.degrade.face import FaceDegradation
from degrade_stream.degrade.fft_filter import fast_length, filter_fft
from degrade_stream.degrade.filtering import filter_per_sample


def _batch(b: int = 6, h: int = 64, w: int = 72) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(b, 3, h, w, generator=g)


def test_output_at_input_size_8bit_and_deterministic():
    x = _batch()
    stage = FaceDegradation()
    out, params = stage(x, seed=5)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.equal(out, (out * 255).round() / 255)
    again, _ = stage(x, seed=5)
    assert torch.equal(out, again)
    other, _ = stage(x, seed=6)
    assert not torch.equal(out, other)


def test_every_choice_varies_per_sample():
    x = _batch(b=32, h=64, w=64)
    _, params = FaceDegradation(interpolation_prob=(1 / 3, 1 / 3, 1 / 3), color_jitter_prob=0.5, gray_prob=0.5,
                                color_jitter_pt_prob=0.5)(x, seed=1)
    for key in ("factor", "noise_sigma", "jpeg_quality"):
        assert params[key].unique().numel() > 20, key
    assert params["blur"]["sigma_x"].unique().numel() > 20
    for key in ("mode_down", "mode_up"):
        assert set(params[key].tolist()) == {0, 1, 2}
    for key in ("jitter_on", "gray_on", "jitter_pt_on"):
        assert 0 < int(params[key].sum()) < 32
    assert params["jitter_pt_factors"].unique().numel() == 4 * 32
    orders = {tuple(o) for o in params["jitter_pt_order"].tolist()}
    assert len(orders) > 10 and all(sorted(o) == [0, 1, 2, 3] for o in orders)
    assert set(params["blur"]["kind"].tolist()) == {0, 1}  # iso and aniso only
    assert torch.equal(params["jpeg_quality"], params["jpeg_quality"].floor())


def test_replay_from_params_and_exact_batch_independence():
    x = _batch(b=5)
    stage = FaceDegradation(large_prob=0.5, downsample_range_large=(4.0, 8.0))
    out, params = stage(x, seed=11)
    replay = stage.apply(x, params)
    assert torch.equal(out, replay)
    for i in range(5):
        alone = stage.apply(x[i:i + 1], select_params(params, [i]))
        assert torch.equal(alone, out[i:i + 1]), i
    # a sample's result with seed tensor entries is its own: reorder the batch
    seeds = torch.tensor([3, 1, 4, 1 + 100, 5])
    a, _ = stage(x, seed=seeds)
    b, _ = stage(x.flip(0), seed=seeds.flip(0))
    assert torch.equal(a, b.flip(0))


def test_large_mix_uses_the_large_ranges_per_sample():
    x = _batch(b=64, h=32, w=32)
    _, p = FaceDegradation(downsample_range=(0.8, 2.0), large_prob=0.5, downsample_range_large=(3.0, 4.0),
                           jpeg_range_large=(30.0, 40.0))(x, seed=2)
    large = p["large"]
    assert 0 < int(large.sum()) < 64
    assert bool((p["factor"][large] >= 3).all()) and bool((p["factor"][~large] <= 2).all())
    assert bool((p["jpeg_quality"][large] < 40).all()) and bool((p["jpeg_quality"][~large] >= 60).all())


def test_gray_and_no_degradation_limits():
    x = _batch(b=2)
    out, _ = FaceDegradation(gray_prob=1.0)(x, seed=0)
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])
    # factor 1, tiny sigma, no noise, JPEG 100, no jitter: close to a smooth input (JPEG's 4:2:0 chroma would
    # wipe out pixel noise)
    x = torch.nn.functional.interpolate(_batch(b=2, h=8, w=9), size=(64, 72), mode="bicubic").clamp(0, 1)
    near, _ = FaceDegradation(blur_sigma=(0.1, 0.1), downsample_range=(1.0, 1.0), noise_range=(0.0, 0.0),
                              jpeg_range=(100.0, 100.0), color_jitter_prob=0.0, gray_prob=0.0,
                              color_jitter_pt_prob=0.0)(x, seed=0)
    assert (near - x).abs().mean() < 0.03  # what is left: 4:2:0 chroma at quality 100 and 8-bit rounding


def test_shipped_chains_build_and_keep_the_size():
    x = _batch(b=2, h=96, w=96)
    for name in ("gfpgan", "codeformer"):
        chain = ds.load_chain(name)
        assert chain.scale == 1
        assert chain(x, seed=0).lq.shape == x.shape


@pytest.mark.parametrize("key,value,message", [
    ("noise_range", [5.0, 1.0], "noise_range"),
    ("jpeg_range", [60, 101], "jpeg_range[1]"),
    ("kernel_size", 40, "kernel_size"),
    ("blur_sigma", [0.1], "blur_sigma"),
    ("color_jitter_prob", 1.5, "color_jitter_prob"),
    ("downsample_range_large", [4, 100], "downsample_range_large[1]"),
    ("hue", [-0.1, 0.6], "hue[1]"),
    ("saturation", [-0.5, 1.5], "saturation[0]"),
    ("color_jitter_pt_prob", -0.1, "color_jitter_pt_prob"),
])
def test_range_errors_name_the_yaml_path(key, value, message):
    config = {"stages": [{"type": "face", key: value}]}
    with pytest.raises(ConfigError) as err:
        ds.load_chain(config)
    assert f"stages[0].{message}" in str(err.value)


def test_too_small_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"face: input 24x40 is too small .* needs at least 32x32"):
        FaceDegradation()(torch.rand(1, 3, 24, 40), seed=0)


def test_fft_blur_equals_the_direct_convolution():
    x = torch.rand(2, 3, 30, 45, dtype=torch.float64)
    k = torch.rand(2, 41, 41, dtype=torch.float64)
    assert torch.allclose(filter_fft(x, k), filter_per_sample(x, k), atol=1e-10)
    assert [fast_length(n) for n in (7, 71, 552, 1000)] == [8, 72, 576, 1000]
