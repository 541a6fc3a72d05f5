"""GFPGAN's per-image CPU degradation (``FFHQDegradationDataset.__getitem__``, options/train_gfpgan_v1.yml)
assembled from BasicSR 1.4.2's own functions and OpenCV, with numpy's global RNG as GFPGAN uses it: the
reference for ``benchmarks/bench_face.py`` and the statistical tests (tests/test_face_degradation_basicsr.py).

One HWC BGR float32 image in [0, 1] -> its LQ at the same size: ``random_mixed_kernels`` (41 taps, iso/aniso,
sigma [0.1, 10]) and ``cv2.filter2D``; ``cv2.resize`` to (int(w // f), int(h // f)), f ~ U(0.8, 8);
``random_add_gaussian_noise`` ([0, 20]); ``add_jpg_compression`` (quality int(U(60, 100)), as ``random_add_jpg_compression`` with older OpenCV); ``cv2.resize`` back;
colour shift with p 0.3 (U(-20, 20)/255 per channel); gray with p 0.01; round to 8 bit. ``interpolation``:
OpenCV's flag for both resizes (GFPGAN: ``cv2.INTER_LINEAR``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

GFPGAN = dict(blur_kernel_size=41, kernel_list=["iso", "aniso"], kernel_prob=[0.5, 0.5], blur_sigma=[0.1, 10],
              downsample_range=[0.8, 8], noise_range=[0, 20], jpeg_range=[60, 100], color_jitter_prob=0.3,
              color_jitter_shift=20, gray_prob=0.01)


def degradations() -> Any:
    """``basicsr.data.degradations``, importable with current torchvision."""
    from degrade_stream import compat
    compat.alias_torchvision_functional_tensor()
    from basicsr.data import degradations as deg
    return deg


def gfpgan_lq(img: np.ndarray, opt: dict = GFPGAN, interpolation: int | None = None,
              record: dict | None = None) -> np.ndarray:
    """The LQ of ``img`` (H, W, 3 BGR float32 in [0, 1]); ``record`` (if given) receives the drawn values."""
    import cv2
    deg = degradations()
    interpolation = cv2.INTER_LINEAR if interpolation is None else interpolation
    h, w = img.shape[:2]
    kernel = deg.random_mixed_kernels(opt["kernel_list"], opt["kernel_prob"], opt["blur_kernel_size"],
                                      opt["blur_sigma"], opt["blur_sigma"], [-math.pi, math.pi], noise_range=None)
    lq = cv2.filter2D(img, -1, kernel)
    factor = np.random.uniform(opt["downsample_range"][0], opt["downsample_range"][1])
    lq = cv2.resize(lq, (int(w // factor), int(h // factor)), interpolation=interpolation)
    if opt["noise_range"] is not None:
        lq = deg.random_add_gaussian_noise(lq, opt["noise_range"])
    if opt["jpeg_range"] is not None:
        # random_add_jpg_compression hands cv2 a float quality, which OpenCV >= 4.7 rejects (older ones truncated it)
        quality = np.random.uniform(opt["jpeg_range"][0], opt["jpeg_range"][1])
        lq = deg.add_jpg_compression(lq, int(quality))
    lq = cv2.resize(lq, (w, h), interpolation=interpolation)
    if np.random.uniform() < opt["color_jitter_prob"]:
        shift = opt["color_jitter_shift"] / 255.0
        lq = np.clip(lq + np.random.uniform(-shift, shift, 3).astype(np.float32), 0, 1)
    if np.random.uniform() < opt["gray_prob"]:
        lq = np.tile(cv2.cvtColor(lq, cv2.COLOR_BGR2GRAY)[:, :, None], [1, 1, 3])
    if record is not None:
        record.update(kernel=kernel, factor=factor, quality=int(quality) if opt["jpeg_range"] else None)
    return np.clip(np.round(lq * 255.0), 0, 255) / 255.0
