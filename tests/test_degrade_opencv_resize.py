"""BSRGAN's resizes and JPEG against the libraries KAIR calls: cv2.resize (INTER_LINEAR/CUBIC/AREA), MATLAB
imresize (BasicSR's port), cv2.imencode/imdecode."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import require_framework
from degrade_stream.degrade.jpeg_pillow import pillow_jpeg
from degrade_stream.degrade.matlab_resize import matlab_resize
from degrade_stream.degrade.opencv_resize import CV2_MODES, opencv_resize


@pytest.fixture(scope="module")
def cv2():
    return require_framework("cv2")


def _sizes(rng: np.random.Generator, n: int) -> list[tuple[int, int, int, int]]:
    """(h, w, out_h, out_w): halvings, BSRGAN-like shrinks by 1/U(1, 8), and arbitrary sizes (growth too)."""
    cases = []
    for t in range(n):
        h, w = (int(v) for v in rng.integers(5, 70, 2))
        if t % 3 == 0:
            out = (max(1, h // 2), max(1, w // 2))
        elif t % 3 == 1:
            f = rng.uniform(1, 8)
            out = (max(1, int(h / f)), max(1, int(w / f)))
        else:
            out = tuple(int(v) for v in rng.integers(3, 90, 2))
        cases.append((h, w, *out))
    return cases


@pytest.mark.parametrize("mode", CV2_MODES)
def test_opencv_resize_matches_cv2(cv2, mode):
    flag = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA}[mode]
    rng = np.random.default_rng(1)
    for h, w, oh, ow in _sizes(rng, 60):
        img = rng.random((h, w, 3)).astype(np.float32)
        ref = cv2.resize(img, (ow, oh), interpolation=flag)
        ours = opencv_resize(torch.from_numpy(img).permute(2, 0, 1)[None], (oh, ow), mode)[0].permute(1, 2, 0)
        # float order only (OpenCV's SIMD sums in its own order): measured <= 5e-6
        np.testing.assert_allclose(ours.numpy(), ref, atol=1e-5, err_msg=f"{mode} {h}x{w}->{oh}x{ow}")


def test_linear_and_cubic_shrink_alias_and_area_does_not(cv2):
    stripes = torch.zeros(1, 1, 63, 63)
    stripes[..., ::2] = 1.0  # the highest frequency; shrunk by 3, a box filter leaves 1/3 or 2/3
    area = opencv_resize(stripes, (21, 21), "area")
    assert (area - 0.5).abs().max() < 0.17
    for mode in ("linear", "cubic"):
        out = opencv_resize(stripes, (21, 21), mode)
        assert (out - 0.5).abs().max() > 0.45, mode  # no anti-aliasing: the stripes alias into a full-contrast pattern


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
def test_matlab_resize_matches_basicsr_imresize():
    from degrade_stream import compat
    matlab = require_framework("basicsr.utils.matlab_functions", prepare=compat.alias_torchvision_functional_tensor)
    rng = np.random.default_rng(2)
    for h, w, scale in [(32, 48, 0.5), (33, 47, 0.5), (20, 30, 0.25), (21, 13, 0.37), (16, 16, 2.0)]:
        img = rng.random((h, w, 3)).astype(np.float32)
        ref = matlab.imresize(img, scale, True)
        ours = matlab_resize(torch.from_numpy(img).permute(2, 0, 1)[None], scale)[0].permute(1, 2, 0).numpy()
        assert ours.shape == ref.shape
        np.testing.assert_allclose(ours, ref, atol=1e-6)  # float64 weights here, float32 there


def test_pillow_jpeg_equals_cv2_imencode_bit_for_bit(cv2):
    rng = np.random.default_rng(3)
    for _ in range(8):
        h, w = (int(v) for v in rng.integers(9, 90, 2))
        img = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (5, 5), 0)
        q = int(rng.integers(30, 96))
        # KAIR add_JPEG_noise: single2uint (round half to even), RGB->BGR, imencode, imdecode, BGR->RGB, /255
        uint8 = np.uint8((img.clip(0, 1) * 255.0).round())
        _, code = cv2.imencode(".jpg", uint8[..., ::-1], [int(cv2.IMWRITE_JPEG_QUALITY), q])
        ref = cv2.imdecode(code, 1)[..., ::-1]
        ours = pillow_jpeg(torch.from_numpy(img).permute(2, 0, 1)[None], torch.tensor([float(q)]))
        assert np.array_equal((ours[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8), ref)
