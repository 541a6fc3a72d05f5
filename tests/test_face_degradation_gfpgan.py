"""The ``gfpgan`` and ``codeformer`` chains against GFPGAN's own ``FFHQDegradationDataset`` (the installed gfpgan
package's file, driven by benchmarks/gfpgan_reference.py; TencentARC/GFPGAN gfpgan/data/ffhq_degradation_dataset.py):

- distributions: two-sample Kolmogorov-Smirnov tests on PSNR(HQ, LQ) and on LQ statistics (mean shift, chroma,
  contrast, fine-scale energy) over a few hundred draws of one 64 px face, and a negative control (the stage's
  former mixed area/bilinear/bicubic anti-aliased resizes) that the same test rejects;
- components given the same draws: the second colour jitter and the colour shift bit for bit, the gray
  conversion and the bilinear resize against OpenCV to float rounding;
- the per-sample draws: the kernel's spread and the JPEG quality against BasicSR's.
"""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import DATA, require_framework
from degrade_stream import compat
from degrade_stream.core.random import SampleRandom
from degrade_stream.degrade.blur_kernels import build_blur_kernels, sample_blur_params
from degrade_stream.degrade.face import FaceDegradation
from degrade_stream.degrade.face_colour import colour_jitter_pt, colour_shift, to_gray
from degrade_stream.degrade.resize import resize
from degrade_stream.io import load_image

# The whole module is slow: importing its framework takes seconds (conftest skips it under -m "not slow").
pytestmark = pytest.mark.slow
require_framework("basicsr.data.degradations", prepare=compat.alias_torchvision_functional_tensor)
if importlib.util.find_spec("gfpgan") is None:  # importing gfpgan would need facexlib: the dataset is loaded alone
    require_framework("gfpgan")  # skips, or fails under CI=true
cv2 = require_framework("cv2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.gfpgan_reference import (dataset_class, degradation_options, make_dataset,  # noqa: E402
                                         opencv_int_params)

import degrade_stream as ds  # noqa: E402

N = 300
SIZE = 64
#: CodeFormer_stage3.yml's normal ranges (sczhou/CodeFormer, commit f730388013967c7ae468a86d39dbede31bdb4360);
#: its FFHQBlindDataset runs GFPGAN's steps with them and no colour step (no color_jitter_* keys, gray_prob 0)
CODEFORMER = {**degradation_options(), "downsample_range": [1, 12], "noise_range": [0, 15],
              "color_jitter_prob": None, "color_jitter_pt_prob": None, "gray_prob": None}


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic."""
    grid = np.sort(np.concatenate([a, b]))
    cdf = lambda v: np.searchsorted(np.sort(v), grid, side="right") / len(v)  # noqa: E731
    return float(np.abs(cdf(a) - cdf(b)).max())


def _ks_bound(n: int, m: int, tests: int = 1) -> float:
    """The KS critical value at alpha = 0.001 / ``tests`` (Bonferroni): c(alpha) * sqrt((n + m) / (n m))."""
    return math.sqrt(-math.log(0.001 / tests / 2) / 2) * math.sqrt((n + m) / (n * m))


def _face() -> torch.Tensor:
    """(1, 3, SIZE, SIZE) the test face in 8-bit steps."""
    hq = F.interpolate(load_image(DATA / "hq" / "mmagic_face__000001.png")[None], size=(SIZE, SIZE),
                       mode="bicubic", antialias=True).clamp(0, 1)
    return (hq * 255).round() / 255


def _statistics(lq: torch.Tensor, hq: torch.Tensor) -> dict[str, np.ndarray]:
    """Per-image PSNR(HQ, LQ) and LQ statistics of (N, 3, H, W) ``lq`` against (1, 3, H, W) ``hq``."""
    mse = ((lq - hq) ** 2).mean((1, 2, 3)).clamp_min(1e-12)
    laplace = (4 * lq[..., 1:-1, 1:-1] - lq[..., :-2, 1:-1] - lq[..., 2:, 1:-1] - lq[..., 1:-1, :-2]
               - lq[..., 1:-1, 2:]).abs().mean((1, 2, 3))
    stats = {"psnr": 10 * torch.log10(1 / mse), "mean_shift": lq.mean((1, 2, 3)) - hq.mean(),
             "chroma": lq.std(1).mean((1, 2)), "contrast": lq.std((1, 2, 3)), "fine_scale": laplace}
    return {k: v.double().numpy() for k, v in stats.items()}


def _reference_lq(tmp: Path, options: dict) -> torch.Tensor:
    """N LQ of the test face from GFPGAN's ``FFHQDegradationDataset`` with ``options``, seeded."""
    folder = tmp / "hq"
    folder.mkdir(exist_ok=True)
    cv2.imwrite(str(folder / "face.png"), (_face()[0].permute(1, 2, 0).numpy()[:, :, ::-1] * 255).round().astype(np.uint8))
    dataset = make_dataset(folder, options)
    np.random.seed(0)
    torch.manual_seed(0)
    with opencv_int_params():
        return torch.stack([dataset[0]["lq"] for _ in range(N)])


def _chain_lq(stage: FaceDegradation) -> torch.Tensor:
    return stage(_face().expand(N, -1, -1, -1).contiguous(), seed=torch.arange(N) + 1000).output


@pytest.fixture(scope="module")
def gfpgan_stats(tmp_path_factory) -> dict[str, np.ndarray]:
    return _statistics(_reference_lq(tmp_path_factory.mktemp("gfpgan"), degradation_options()), _face())


def _worst(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> dict[str, float]:
    """KS statistic over the critical value, per statistic (> 1: the two differ)."""
    bound = _ks_bound(N, N, tests=len(theirs))
    return {k: round(_ks(ours[k], theirs[k]) / bound, 3) for k in theirs}


@pytest.mark.slow
def test_gfpgan_chain_draws_gfpgans_distribution(gfpgan_stats):
    chain = ds.load_chain("gfpgan")
    ratios = _worst(_statistics(_chain_lq(chain.stages[0]), _face()), gfpgan_stats)
    assert max(ratios.values()) < 1.0, ratios


@pytest.mark.slow
def test_negative_control_the_former_mixed_resizes_are_told_apart(gfpgan_stats):
    # the stage before it followed GFPGAN: area/bilinear/bicubic per resize, anti-aliased shrinks (the colour
    # jitter kept, so only the resizes differ)
    mixed = FaceDegradation(interpolation_prob=(1 / 3, 1 / 3, 1 / 3), antialias=True)
    ratios = _worst(_statistics(_chain_lq(mixed), _face()), gfpgan_stats)
    assert ratios["fine_scale"] > 1.0, ratios


@pytest.mark.slow
def test_codeformer_chain_draws_codeformers_distribution(tmp_path):
    theirs = _statistics(_reference_lq(tmp_path, CODEFORMER), _face())
    ours = _statistics(_chain_lq(ds.load_chain("codeformer").stages[0]), _face())
    ratios = _worst(ours, theirs)
    assert max(ratios.values()) < 1.0, ratios
    # and a colour step (GFPGAN's) is told apart from CodeFormer's none
    coloured = _statistics(_chain_lq(FaceDegradation(downsample_range=(1.0, 12.0), noise_range=(0.0, 15.0))), _face())
    assert max(_worst(coloured, theirs).values()) > 1.0


def test_second_colour_jitter_is_gfpgans_bit_for_bit():
    ranges = [(0.5, 1.5), (0.5, 1.5), (0.0, 1.5), (-0.1, 0.1)]
    x = torch.rand(6, 3, 24, 20, generator=torch.Generator().manual_seed(1))
    theirs, orders, factors = [], [], []
    for i in range(6):
        torch.manual_seed(100 + i)
        theirs.append(dataset_class().color_jitter_pt(x[i], *ranges))
        torch.manual_seed(100 + i)  # the same draws: the permutation, then one factor per step in its order
        order = torch.randperm(4)
        drawn = {int(k): torch.tensor(1.0).uniform_(*ranges[int(k)]).item() for k in order}
        orders.append(order)
        factors.append([drawn[k] for k in range(4)])
    ours = colour_jitter_pt(x, torch.ones(6, dtype=torch.bool), torch.stack(orders), torch.tensor(factors))
    assert torch.equal(ours, torch.stack(theirs))
    assert torch.equal(colour_jitter_pt(x, torch.zeros(6, dtype=torch.bool), torch.stack(orders),
                                        torch.tensor(factors)), x)


def test_colour_shift_is_gfpgans_bit_for_bit_and_gray_is_opencvs():
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    bgr = x[0].permute(1, 2, 0).numpy()[:, :, ::-1].copy()
    np.random.seed(3)
    theirs = dataset_class().color_jitter(bgr, 20 / 255)
    np.random.seed(3)
    shift = torch.from_numpy(np.random.uniform(-20 / 255, 20 / 255, 3).astype(np.float32)[::-1].copy())
    ours = colour_shift(x, torch.tensor([True]), shift[None])
    assert torch.equal(ours[0], torch.from_numpy(theirs[:, :, ::-1].copy()).permute(2, 0, 1))
    gray = to_gray(x, torch.tensor([True]))[0]
    # OpenCV sums the weighted channels in its own order: float32 rounding apart
    assert torch.allclose(gray[0], torch.from_numpy(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)), atol=2e-7, rtol=0)


@pytest.mark.parametrize("shape,size", [((64, 64), (23, 23)), ((64, 72), (8, 9)), ((8, 9), (64, 72)),
                                        ((23, 23), (64, 64))])
def test_bilinear_resize_is_opencvs_inter_linear(shape, size):
    x = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(4))
    theirs = cv2.resize(x[0].permute(1, 2, 0).numpy(), size[::-1], interpolation=cv2.INTER_LINEAR)
    ours = resize(x, size, "bilinear", antialias=False)[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - theirs).max() < 1e-5  # OpenCV computes the source coordinates in float32
    if size[0] < shape[0]:  # the anti-aliased shrink is another filter
        assert np.abs(resize(x, size, "bilinear", antialias=True)[0].permute(1, 2, 0).numpy() - theirs).max() > 1e-2


def _spread(kernels: np.ndarray) -> np.ndarray:
    """sqrt of the trace of each kernel's covariance: sqrt(sx^2 + sy^2) before truncation to 41 taps."""
    ax = np.arange(41) - 20.0
    return np.sqrt((kernels * ax[None, None, :] ** 2).sum((1, 2)) + (kernels * ax[None, :, None] ** 2).sum((1, 2)))


def test_kernel_spread_matches_basicsrs_random_mixed_kernels():
    from basicsr.data import degradations as deg
    n, opt = 1500, degradation_options()
    np.random.seed(0)
    theirs = np.stack([deg.random_mixed_kernels(opt["kernel_list"], opt["kernel_prob"], opt["blur_kernel_size"],
                                                opt["blur_sigma"], opt["blur_sigma"], [-np.pi, np.pi], noise_range=None)
                       for _ in range(n)])
    ours = build_blur_kernels(sample_blur_params(SampleRandom(torch.arange(n)), FaceDegradation().blur), 41)
    assert _ks(_spread(ours.double().numpy()), _spread(theirs)) < _ks_bound(n, n)
    narrower = build_blur_kernels(sample_blur_params(SampleRandom(torch.arange(n)),
                                                     FaceDegradation(blur_sigma=(0.1, 8.0)).blur), 41)
    assert _ks(_spread(narrower.double().numpy()), _spread(theirs)) > _ks_bound(n, n)  # the test can fail


def test_jpeg_quality_distribution_matches_gfpgans_truncation():
    n = 4000
    ours = FaceDegradation().sample_params(torch.zeros(n, 3, 64, 64), torch.arange(n))["jpeg_quality"].numpy()
    np.random.seed(1)
    theirs = np.array([int(np.random.uniform(60, 100)) for _ in range(n)], dtype=np.float64)
    assert set(np.unique(ours).tolist()) == set(range(60, 100)) == set(np.unique(theirs).tolist())
    assert _ks(ours, theirs) < _ks_bound(n, n)
