"""The one crop of an HQ image to a multiple of the scale, shared by the offline plan and both plugins."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from degrade_stream.stream.crop import crop_to_scale, scale_multiple


def test_scale_multiple_rounds_each_side_down_to_a_multiple():
    assert scale_multiple(103, 64, 4) == (100, 64)
    assert scale_multiple(3, 9, 4) == (0, 8)
    assert scale_multiple(7, 5, 1) == (7, 5)


@pytest.mark.parametrize("scale", [0, -2, 2.0, True])
def test_scale_multiple_rejects_a_scale_that_is_not_a_positive_int(scale):
    with pytest.raises(ValueError, match=r"scale must be an int >= 1"):
        scale_multiple(8, 8, scale)


def test_crop_to_scale_keeps_the_top_left_of_a_tensor_batch_without_copying():
    image = torch.arange(2 * 3 * 10 * 7, dtype=torch.float32).reshape(2, 3, 10, 7)
    out = crop_to_scale(image, 3)
    assert out.shape == (2, 3, 9, 6) and torch.equal(out, image[:, :, :9, :6])
    assert out.data_ptr() == image.data_ptr()


def test_crop_to_scale_of_an_hwc_array_crops_the_first_two_axes():
    image = np.arange(10 * 7 * 3, dtype=np.uint8).reshape(10, 7, 3)
    out = crop_to_scale(image, 4, channels_last=True)
    assert out.shape == (8, 4, 3) and np.array_equal(out, image[:8, :4])
    assert crop_to_scale(image, 4).shape == (10, 4, 0)  # without channels_last the last two axes are cropped
