"""Building blocks: padding, filtering, USM, noise, JPEG, resize, rounding (statistical where random)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import require_framework
from degrade_stream.degrade.filtering import filter_per_sample, filter_separable
from degrade_stream.degrade.jpeg import jpeg_compress
from degrade_stream.degrade.noise import _levels, add_gaussian_noise, add_poisson_noise
from degrade_stream.degrade.padding import reflect_pad
from degrade_stream.core.quantize import quantize8
from degrade_stream.degrade.resize import MODES, resize, resize_per_sample
from degrade_stream.degrade.usm import gaussian_kernel_1d, usm_sharpen


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1.0 / F.mse_loss(a, b)))


def _basicsr_img_process():
    from degrade_stream import compat
    return require_framework("basicsr.utils.img_process_util", prepare=compat.alias_torchvision_functional_tensor)


def test_reflect_pad_matches_torch_and_numpy_even_when_wider_than_the_image():
    x = torch.rand(2, 3, 9, 12)
    assert torch.equal(reflect_pad(x, 4), F.pad(x, (4, 4, 4, 4), mode="reflect"))
    wide = reflect_pad(x, 21)
    ref = np.pad(x.numpy(), ((0, 0), (0, 0), (21, 21), (21, 21)), mode="reflect")
    np.testing.assert_array_equal(wide.numpy(), ref)
    assert reflect_pad(torch.rand(1, 3, 1, 5), 3).shape == (1, 3, 7, 11)


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
def test_per_sample_filter_matches_basicsr_filter2d(hq_batch):
    basicsr = _basicsr_img_process()
    kernels = torch.rand(hq_batch.shape[0], 21, 21)
    kernels /= kernels.sum((1, 2), keepdim=True)
    ours = filter_per_sample(hq_batch, kernels)
    ref = basicsr.filter2D(hq_batch.contiguous(), kernels)
    assert (ours - ref).abs().max() <= 1e-6  # the same reflect padding and grouped convolution (measured: 0)
    assert psnr(ours[3:4], filter_per_sample(hq_batch[3:4], kernels[3:4])) > 100  # batched == alone


def test_filter_works_on_images_smaller_than_the_kernel():
    x = torch.rand(2, 3, 6, 5)
    k = torch.zeros(2, 21, 21)
    k[:, 10, 10] = 1.0
    assert torch.allclose(filter_per_sample(x, k), x)  # a delta kernel is the identity at any size


@pytest.mark.parametrize("shape", [(2, 3, 40, 33), (2, 3, 5, 130), (1, 3, 200, 64)])
def test_separable_filter_equals_dense_outer_product(shape):
    x = torch.rand(*shape)  # sizes below, at and past the 64-pixel tile, and smaller than the kernel
    g = gaussian_kernel_1d(11, 2.0)
    dense = filter_per_sample(x, torch.outer(g, g)[None].expand(shape[0], 11, 11))
    assert (filter_separable(x, g) - dense).abs().max() <= 1e-6


def test_separable_filter_takes_one_kernel_per_sample_and_is_batch_independent():
    x = torch.rand(3, 3, 70, 90)
    kernels = torch.stack([gaussian_kernel_1d(51, s) for s in (1.0, 4.0, 9.0)])
    out = filter_separable(x, kernels)
    for i in range(3):
        assert torch.equal(out[i:i + 1], filter_separable(x[i:i + 1], kernels[i]))  # bit-identical alone
        dense = filter_per_sample(x[i:i + 1], torch.outer(kernels[i], kernels[i])[None])
        assert (out[i:i + 1] - dense).abs().max() <= 5e-6  # 2 x 51 taps vs 2601: summation order only
    with pytest.raises(ValueError, match=r"odd \(k,\) or \(B=3, k\) kernel"):
        filter_separable(x, kernels[:2])


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
def test_usm_matches_basicsr_usmsharp(hq_batch):
    basicsr = _basicsr_img_process()
    ours = usm_sharpen(hq_batch)
    ref = basicsr.USMSharp()(hq_batch)
    # two separable 51-tap passes vs one dense 51x51 convolution: float summation order only (measured 1.1e-6)
    assert (ours - ref).abs().max() <= 5e-6
    assert (ours - hq_batch).abs().mean() > 1e-3  # it does sharpen


def test_gaussian_noise_std_follows_each_samples_sigma():
    x = torch.full((4, 3, 96, 96), 0.5)
    sigma = torch.tensor([2.0, 5.0, 10.0, 20.0])
    out = add_gaussian_noise(x, sigma, torch.tensor([False, True, False, True]), torch.arange(4))
    std = (out - x).std(dim=(1, 2, 3)) * 255
    assert torch.allclose(std, sigma, rtol=0.05)
    noise = out - x
    assert torch.equal(noise[1, 0], noise[1, 2]) and torch.equal(noise[3, 0], noise[3, 1])  # gray: shared field
    assert not torch.allclose(noise[0, 0], noise[0, 1])  # colour: independent channels


def test_gaussian_fields_are_the_cpu_generators_draws_whatever_the_dtype_or_device():
    from degrade_stream.degrade.noise import normal_fields

    seeds = torch.tensor([11, 1 << 40])
    fields = normal_fields(seeds, (3, 8, 9), torch.zeros(1, dtype=torch.float64))
    assert fields.dtype == torch.float64 and fields.shape == (2, 3, 8, 9)
    for field, seed in zip(fields, seeds.tolist()):  # one float32 CPU stream per sample, so every device agrees
        assert torch.equal(field, torch.randn(3, 8, 9, generator=torch.Generator().manual_seed(seed)).double())


def test_noise_field_depends_only_on_its_seed():
    x = torch.full((3, 3, 32, 32), 0.5)
    seeds = torch.tensor([11, 12, 13])
    a = add_gaussian_noise(x, torch.full((3,), 10.0), torch.zeros(3, dtype=torch.bool), seeds)
    b = add_gaussian_noise(x[:1], torch.full((1,), 10.0), torch.zeros(1, dtype=torch.bool), seeds[2:])
    assert torch.equal(a[2:], b)
    assert not torch.equal(a[0], a[1])


def test_poisson_noise_variance_is_signal_over_levels():
    ramp = torch.arange(256.0).div(255).repeat(64, 1)  # 256 levels -> vals = 256
    x = ramp.expand(2, 3, 64, 256).contiguous()
    scale = torch.tensor([1.0, 2.5])
    out = add_poisson_noise(x, scale, torch.tensor([False, True]), torch.tensor([1, 2]))
    noise = out - x
    inner = (x > 0.1) & (x < 0.9)  # away from the clamp at 0 and 1
    var = torch.stack([(noise[i][inner[i]] ** 2).mean() for i in range(2)])
    expected = scale ** 2 * torch.stack([x[i][inner[i]].mean() for i in range(2)]) / 256
    assert torch.allclose(var, expected, rtol=0.1)
    assert torch.equal(noise[1, 0], noise[1, 1])  # gray Poisson noise shared by the channels


def test_levels_count_matches_unique_rounded_up_to_power_of_two():
    x = torch.stack([torch.rand(3, 16, 16), torch.full((3, 16, 16), 0.5), torch.tensor([0.0, 1.0, 0.2]).repeat(16, 16, 1).permute(2, 0, 1)])
    for img, got in zip(x, _levels(x)):
        n = len(torch.unique((img * 255).round()))
        assert got == 2 ** int(np.ceil(np.log2(n)))


def test_jpeg_quality_per_sample(hq_batch):
    x = hq_batch[:2].repeat(2, 1, 1, 1)[:, :, :56, :60]  # not multiples of 16: padded and cropped back
    out = jpeg_compress(x, torch.tensor([95.0, 95.0, 10.0, 10.0]))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    high = [psnr(out[i], x[i]) for i in (0, 1)]
    low = [psnr(out[i], x[i]) for i in (2, 3)]
    assert min(high) > 33
    assert max(low) < min(high) - 6


def test_resize_per_sample_modes_equal_single_mode_calls():
    x = torch.rand(4, 3, 30, 40)
    mode = torch.tensor([2, 0, 1, 2])
    out = resize_per_sample(x, (12, 17), mode)
    for i, m in enumerate(mode.tolist()):
        assert torch.allclose(out[i:i + 1], resize(x[i:i + 1], (12, 17), MODES[m]))
    assert not torch.allclose(out[0], resize(x[:1], (12, 17), "area")[0])
    down = resize(x, (15, 20), "bicubic")  # anti-aliased when shrinking
    assert torch.allclose(down, F.interpolate(x, size=(15, 20), mode="bicubic", antialias=True))


def test_quantize8_rounds_to_8bit_levels():
    x = torch.tensor([-0.2, 0.0, 0.5, 0.9981, 1.3])
    out = quantize8(x)
    assert torch.allclose(out * 255, (out * 255).round()) and out.min() == 0 and out.max() == 1
    assert out[2] == 128 / 255


def test_jpeg_tracks_libjpeg_via_pillow(hq_batch):
    import io

    from PIL import Image
    img = hq_batch[0]
    for q in (20, 50, 80):
        buf = io.BytesIO()
        Image.fromarray((img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(buf, "JPEG", quality=q, subsampling=2)
        pil = torch.from_numpy(np.array(Image.open(buf))).permute(2, 0, 1).float() / 255
        ours = jpeg_compress(img[None], torch.tensor([float(q)]))[0]
        assert abs(psnr(ours, img) - psnr(pil, img)) < 1.0  # same loss of quality as libjpeg
        assert psnr(ours, pil) > 32


def test_jpeg_is_block_local_so_a_ragged_canvas_matches_single_images():
    from degrade_stream.degrade.canvas import fill
    a, b = torch.rand(1, 3, 21, 30), torch.rand(1, 3, 40, 45)
    canvas = torch.zeros(2, 3, 48, 48)
    canvas[0, :, :21, :30] = a[0]
    canvas[1, :, :40, :45] = b[0]
    sizes = torch.tensor([[21, 30], [40, 45]])
    out = jpeg_compress(fill(canvas, sizes, 0, "replicate"), torch.tensor([30.0, 70.0]))
    assert torch.equal(out[0:1, :, :21, :30], jpeg_compress(a, torch.tensor([30.0])))
    assert torch.equal(out[1:2, :, :40, :45], jpeg_compress(b, torch.tensor([70.0])))


def test_canvas_resize_matches_interpolate_per_sample_and_fill_reflects():
    from degrade_stream.degrade.canvas import fill
    from degrade_stream.degrade.canvas import resize as canvas_resize
    x = torch.rand(3, 3, 40, 52)
    x[1, :, 30:] = 7.0  # outside sample 1's valid 30x41 region: must never leak in
    x[1, :, :, 41:] = 7.0
    sizes_in = [[40, 52], [30, 41], [40, 52]]
    sizes_out = [[17, 23], [61, 80], [40, 52]]
    out = canvas_resize(x, sizes_in, sizes_out, [2, 1, 0], (64, 80))
    for i, ((hi, wi), (ho, wo), m) in enumerate(zip(sizes_in, sizes_out, [2, 1, 0])):
        ref = resize(x[i:i + 1, :, :hi, :wi], (ho, wo), MODES[m])
        assert torch.allclose(out[i:i + 1, :, :ho, :wo], ref, atol=1e-5)
        assert out[i, :, ho:].abs().sum() == 0 and out[i, :, :, wo:].abs().sum() == 0
    padded = fill(x, torch.tensor(sizes_in), 5, "reflect")
    ref = np.pad(x[1, 0, :30, :41].numpy(), 5, mode="reflect")
    np.testing.assert_array_equal(padded[1, 0, :40, :51].numpy(), ref)
