"""JPEG through the real codec: Pillow's libjpeg(-turbo) encoder and decoder, on the CPU, sample by sample.

BSRGAN (cszn/KAIR ``utils/utils_blindsr.py`` ``add_JPEG_noise``) rounds the image to 8 bit and codes it with
``cv2.imencode('.jpg', quality)`` / ``cv2.imdecode``. Pillow's ``save(format='JPEG', quality=q)`` (4:2:0,
baseline, no optimisation) with its default decoder gives the same bytes and the same decoded pixels
(``tests/test_degrade_opencv_resize.py`` checks against OpenCV), so this is BSRGAN's JPEG without OpenCV
as a dependency. The batch leaves its device for the CPU and comes back: a host copy per call, unlike the
batched ``jpeg.py`` / ``diffjpeg.py``.
"""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from ..core.quantize import uint8_levels


def _code_one(pixels: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"))


def pillow_jpeg(x: Tensor, quality: Tensor) -> Tensor:
    """JPEG-code (B,3,H,W) ``x`` in [0, 1] (rounded to 8 bit first) with (B,) integer ``quality`` in [1, 95];
    returns the decoded 8-bit levels / 255 on ``x``'s device and dtype."""
    levels = uint8_levels(x).permute(0, 2, 3, 1).cpu().numpy()
    qualities = [int(q) for q in quality.reshape(-1).expand(x.shape[0]).tolist()]
    coded = np.stack([_code_one(np.ascontiguousarray(img), q) for img, q in zip(levels, qualities)])
    return torch.from_numpy(coded).permute(0, 3, 1, 2).to(device=x.device, dtype=x.dtype) / 255.0
