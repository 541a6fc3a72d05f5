"""degrade/diffjpeg.py against BasicSR's DiffJPEG (basicsr/utils/diffjpeg.py, the JPEG of Real-ESRGAN's feed_data):
bit for bit, alone and batched, with both of its rounding functions; per-sample shapes; the canvas padding."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from conftest import require_framework
from degrade_stream.degrade.canvas import fill
from degrade_stream.degrade.diffjpeg import diffjpeg_compress, quality_factor
from degrade_stream.degrade.jpeg import jpeg_compress


@pytest.fixture(scope="module")
def diffjpeg_class():
    from degrade_stream import compat
    return require_framework("basicsr.utils.diffjpeg", prepare=compat.alias_torchvision_functional_tensor).DiffJPEG


def _smooth(*shape: int, seed: int = 0) -> torch.Tensor:
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(seed))
    return F.avg_pool2d(x, 3, 1, 1)  # some structure, so coefficients are not all noise


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
@pytest.mark.parametrize("differentiable", [False, True], ids=["round", "cubic_round"])
@pytest.mark.parametrize("size", [(32, 32), (21, 30), (40, 45), (17, 100)])
def test_equals_basicsr_diffjpeg_bit_for_bit(diffjpeg_class, differentiable, size):
    x = _smooth(3, 3, *size, seed=size[0])
    quality = torch.tensor([10.0, 49.5, 87.3])
    ref = diffjpeg_class(differentiable=differentiable)(x.clone(), quality.clone())  # it rewrites its quality
    assert torch.equal(diffjpeg_compress(x, quality, differentiable), ref)
    for i in range(3):  # a lone image too
        alone = diffjpeg_class(differentiable=differentiable)(x[i:i + 1].clone(), quality[i:i + 1].clone())
        assert torch.equal(diffjpeg_compress(x[i:i + 1], quality[i:i + 1], differentiable), alone)


def test_quality_factor_is_continuous_and_unclamped():
    q = torch.tensor([1.0, 25.0, 49.9, 50.0, 50.5, 100.0])
    assert torch.equal(quality_factor(q), torch.tensor([50.0, 2.0, 5000.0 / 49.9 / 100, 1.0, 0.99, 0.0]))


def test_differs_from_libjpeg_layout_and_padding():
    x = _smooth(1, 3, 40, 45)
    q = torch.tensor([50.0])
    assert not torch.equal(diffjpeg_compress(x, q), jpeg_compress(x, q))
    # zero (black) padding rings into the last partial blocks of a flat image; libjpeg's replication does not
    flat = torch.full((1, 3, 36, 36), 0.8)  # rows/columns 32-35 share their 8x8 blocks with 4 padded ones
    zero_pad, replicate = diffjpeg_compress(flat, torch.tensor([30.0])), jpeg_compress(flat, torch.tensor([30.0]))
    assert (flat - zero_pad)[..., 32:, :].abs().amax() > 4 * (flat - replicate)[..., 32:, :].abs().amax()


def test_batch_independent_and_canvas_equals_each_image_alone():
    a, b = _smooth(1, 3, 21, 30, seed=1), _smooth(1, 3, 40, 45, seed=2)
    canvas = torch.rand(2, 3, 48, 48)  # junk outside the valid corners: fill('zeros') must clear it
    canvas[0, :, :21, :30] = a[0]
    canvas[1, :, :40, :45] = b[0]
    sizes = torch.tensor([[21, 30], [40, 45]])
    out = diffjpeg_compress(fill(canvas, sizes, 0, "zeros"), torch.tensor([30.0, 70.0]))
    assert torch.equal(out[0:1, :, :21, :30], diffjpeg_compress(a, torch.tensor([30.0])))
    assert torch.equal(out[1:2, :, :40, :45], diffjpeg_compress(b, torch.tensor([70.0])))


def test_dtype_kept_and_input_untouched():
    x = _smooth(2, 3, 16, 24).double()
    before = x.clone()
    out = diffjpeg_compress(x, torch.tensor([40.0, 90.0]))
    assert out.dtype == torch.float64 and out.shape == x.shape and torch.equal(x, before)
    assert out.min() >= 0 and out.max() <= 1
