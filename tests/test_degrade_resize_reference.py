"""The reference resizes: plain F.interpolate (Real-ESRGAN, no anti-aliasing) and its scale_factor form, as
matrices on the ragged canvas; the anti-aliased option kept."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from degrade_stream.degrade.canvas import resize as canvas_resize
from degrade_stream.degrade.resize import MODES, interpolation_matrix, resize, scaled_size


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_option(mode):
    x = torch.rand(2, 3, 40, 52)
    plain = resize(x, (13, 17), mode, antialias=False)
    assert torch.equal(plain, F.interpolate(x, size=(13, 17), mode=mode, align_corners=False))
    assert torch.equal(resize(x, (13, 17), mode), F.interpolate(x, size=(13, 17), mode=mode, antialias=True))
    assert not torch.allclose(plain, resize(x, (13, 17), mode), atol=1e-3)
    up = resize(x, (80, 90), mode, antialias=False)  # up-scaling is the same either way
    assert torch.equal(up, resize(x, (80, 90), mode))


@pytest.mark.parametrize("mode", ["area", "bilinear", "bicubic"])
@pytest.mark.parametrize("scale", [0.15, 0.37, 0.8313, 1.0, 1.27, 1.5])
def test_scale_factor_matrix_is_interpolate_with_scale_factor(mode, scale):
    x = torch.rand(1, 3, 37, 45)
    ref = F.interpolate(x, scale_factor=scale, mode=mode)
    hs, ws = scaled_size(37, scale), scaled_size(45, scale)
    assert ref.shape[-2:] == (hs, ws)
    mh = interpolation_matrix(37, hs, mode, False, scale, x.device, x.dtype)
    mw = interpolation_matrix(45, ws, mode, False, scale, x.device, x.dtype)
    assert (mh @ x @ mw.T - ref).abs().max() <= 2e-6  # a matrix product instead of the 2/4-tap kernel: order only


def test_scale_factor_form_differs_from_size_form():
    # 45 * 0.37 = 16.65 -> 16 pixels; scale_factor samples at 1/0.37 px steps, the size form at 45/16
    by_scale = interpolation_matrix(45, 16, "bicubic", False, 0.37, torch.device("cpu"), torch.float32)
    by_size = interpolation_matrix(45, 16, "bicubic", False, None, torch.device("cpu"), torch.float32)
    assert (by_scale - by_size).abs().max() > 0.05
    with pytest.raises(ValueError, match="takes 45 pixels to 16, not 17"):
        interpolation_matrix(45, 17, "bicubic", False, 0.37, torch.device("cpu"), torch.float32)


def test_canvas_resize_with_scales_matches_each_sample():
    x = torch.rand(3, 3, 40, 52)
    scales = [0.41, 1.3, 0.77]
    sizes_in = [[40, 52], [30, 41], [40, 52]]
    modes = [2, 1, 0]
    sizes_out = [[scaled_size(h, s), scaled_size(w, s)] for (h, w), s in zip(sizes_in, scales)]
    out = canvas_resize(x, sizes_in, sizes_out, modes, (64, 80), antialias=False, scales=scales)
    for i, ((hi, wi), (ho, wo), m, s) in enumerate(zip(sizes_in, sizes_out, modes, scales)):
        ref = F.interpolate(x[i:i + 1, :, :hi, :wi], scale_factor=s, mode=MODES[m])
        assert (out[i:i + 1, :, :ho, :wo] - ref).abs().max() <= 2e-6
        assert out[i, :, ho:].abs().sum() == 0 and out[i, :, :, wo:].abs().sum() == 0
