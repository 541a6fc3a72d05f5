"""BSRGAN's degradation for the distribution tests: cszn/KAIR ``utils/utils_blindsr.py`` ``degradation_bsrgan``
(commit 5480229). KAIR is not installable, so this path is written here from its published algorithm (no code
copied), with the libraries KAIR calls and the global ``random`` / ``numpy`` generators: ``cv2.resize``
(INTER_LINEAR/CUBIC/AREA), ``cv2.imencode`` JPEG, ``scipy.ndimage.convolve`` (mode 'mirror'),
``scipy.stats.multivariate_normal`` kernels, ``scipy.linalg.orth``, ``numpy.random.multivariate_normal``, and
MATLAB's ``imresize`` through BasicSR's port (KAIR's ``imresize_np`` is the same algorithm). ``shift_pixel``'s
``interp2d`` (linear) is gone from SciPy >= 1.14; ``RegularGridInterpolator`` (linear) evaluates the same
bilinear interpolation. No ISP step (KAIR skips it without a model) and no final random crop.
"""
from __future__ import annotations

import random

import numpy as np
import torch
from scipy import ndimage, stats
from scipy.interpolate import RegularGridInterpolator
from scipy.linalg import orth


def _fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    half = (size - 1) / 2
    y, x = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1), indexing="ij")
    k = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    k[k < np.finfo(float).eps * k.max()] = 0
    return k / k.sum()


def _anisotropic_gaussian(size: int, theta: float, l1: float, l2: float) -> np.ndarray:
    v = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) @ np.array([1.0, 0.0])
    basis = np.array([[v[0], v[1]], [v[1], -v[0]]])
    cov = basis @ np.diag([l1, l2]) @ np.linalg.inv(basis)
    offsets = np.arange(size) - (size - 1) / 2
    grid = np.stack(np.meshgrid(offsets, offsets, indexing="xy"), -1)  # (row, col) -> (x = col, y = row)
    k = stats.multivariate_normal.pdf(grid, mean=[0, 0], cov=cov)
    return k / k.sum()


def _blur(img: np.ndarray, sf: int) -> np.ndarray:
    if random.random() < 0.5:
        l1, l2 = (4.0 + sf) * random.random(), (4.0 + sf) * random.random()
        k = _anisotropic_gaussian(2 * random.randint(2, 11) + 3, random.random() * np.pi, l1, l2)
    else:
        k = _fspecial_gaussian(2 * random.randint(2, 11) + 3, (2.0 + 0.2 * sf) * random.random())
    return ndimage.convolve(img, k[..., None], mode="mirror")


def _shifted_kernel(sigma: float, sf: int) -> np.ndarray:
    k = _fspecial_gaussian(25, sigma)
    axis = np.arange(25.0)
    moved = np.clip(axis + (sf - 1) * 0.5, 0, 24)
    yy, xx = np.meshgrid(moved, moved, indexing="ij")
    k = RegularGridInterpolator((axis, axis), k, method="linear")(np.stack([yy, xx], -1))
    return k / k.sum()


def _noise(img: np.ndarray) -> np.ndarray:
    level = random.randint(2, 25)
    draw = np.random.rand()
    if draw > 0.6:
        img = img + np.random.normal(0, level / 255.0, img.shape).astype(np.float32)
    elif draw < 0.4:
        img = img + np.random.normal(0, level / 255.0, (*img.shape[:2], 1)).astype(np.float32)
    else:
        u = orth(np.random.rand(3, 3))
        conv = u.T @ np.diag(np.random.rand(3)) @ u
        cov = np.abs((25 / 255.0) ** 2 * conv)
        img = img + np.random.multivariate_normal([0, 0, 0], cov, img.shape[:2]).astype(np.float32)
    return np.clip(img, 0.0, 1.0)


def _jpeg(img: np.ndarray) -> np.ndarray:
    import cv2

    quality = random.randint(30, 95)
    pixels = np.uint8((img.clip(0, 1) * 255.0).round())
    _, code = cv2.imencode(".jpg", pixels[..., ::-1], [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    return np.float32(cv2.imdecode(code, 1)[..., ::-1] / 255.0)


def _resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    return cv2.resize(img, (width, height), interpolation=random.choice([1, 2, 3]))


def bsrgan_degrade(hq: torch.Tensor, sf: int = 4) -> torch.Tensor:
    """(1, 3, H, W) HQ (H, W multiples of ``sf``) -> (1, 3, H/sf, W/sf) LQ, one draw of KAIR's choices."""
    from basicsr.utils.matlab_functions import imresize

    img = np.ascontiguousarray(hq[0].permute(1, 2, 0).numpy().astype(np.float32))
    if sf == 4 and random.random() < 0.25:
        if np.random.rand() < 0.5:
            img = _resize(img, int(img.shape[1] / 2), int(img.shape[0] / 2))
        else:
            img = imresize(img, 0.5, True)
        img, sf = np.clip(img, 0.0, 1.0), 2
    order = random.sample(range(7), 7)
    i2, i3 = order.index(2), order.index(3)
    if i2 > i3:
        order[i2], order[i3] = order[i3], order[i2]
    width, height = img.shape[1], img.shape[0]
    for op in order:
        if op in (0, 1):
            img = _blur(img, sf)
        elif op == 2:
            width, height = img.shape[1], img.shape[0]
            if random.random() < 0.75:
                factor = random.uniform(1, 2 * sf)
                img = _resize(img, int(1 / factor * img.shape[1]), int(1 / factor * img.shape[0]))
            else:
                k = _shifted_kernel(random.uniform(0.1, 0.6 * sf), sf)
                img = ndimage.convolve(img, k[..., None], mode="mirror")[0::sf, 0::sf]
            img = np.clip(img, 0.0, 1.0)
        elif op == 3:
            img = np.clip(_resize(img, int(1 / sf * width), int(1 / sf * height)), 0.0, 1.0)
        elif op == 4:
            img = _noise(img)
        elif op == 5 and random.random() < 0.9:
            img = _jpeg(img)
    img = _jpeg(img)
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float()
