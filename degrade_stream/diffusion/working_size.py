"""The working resolution of a DDPM: the size a model was trained at (``working_size`` in its recipe and
exported config.yaml), and the resize that takes images there and back.

Training (train_data.py) resizes each real LQ image so its shorter side is ``working_size`` before cropping;
``ddpm_refine`` resizes each handcrafted LQ the same way, refines it there and resizes the result back to
the input size. Both use ``resize_shorter_side``: antialiased bicubic (PIL's kernel, a = -0.5), so a
downscale averages instead of aliasing, clamped to [0, 1].
"""
from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from ..core.checks import check_int
from ..core.errors import ConfigError, short_repr
from .size_limits import MAX_WORKING_SIZE

MODEL = "model"  # ddpm_refine's default: the working_size recorded in the checkpoint's config.yaml
MIN_WORKING_SIZE = 8


def working_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) with min(h, w) == ``size`` and the aspect ratio kept (rounded; neither side below ``size``)."""
    if min(height, width) == size:
        return height, width
    scale = size / min(height, width)
    return max(size, round(height * scale)), max(size, round(width * scale))


def resize_to(image: Tensor, height: int, width: int) -> Tensor:
    """Antialiased bicubic resize of (C, H, W) or (B, C, H, W) to (height, width), clamped to [0, 1].

    Each image of a batch is resized on its own (one call, no cross-sample terms), so a sample's result
    does not depend on the batch it is in.
    """
    if tuple(image.shape[-2:]) == (height, width):
        return image
    batched = image if image.dim() == 4 else image[None]
    out = F.interpolate(batched, size=(height, width), mode="bicubic", antialias=True, align_corners=False)
    out = out.clamp(0.0, 1.0)
    return out if image.dim() == 4 else out[0]


def resize_shorter_side(image: Tensor, size: int) -> Tensor:
    """Resize (C, H, W) or (B, C, H, W) so min(H, W) == ``size``, keeping the aspect ratio (unchanged if
    it already is)."""
    height, width = image.shape[-2:]
    return resize_to(image, *working_shape(height, width, size))


def check_working_size(value: Any, name: str = "working_size") -> int | str | None:
    """A ``working_size`` stage argument: an int >= 8, ``"model"`` or None (native resolution); the ``Parser`` of
    ``ddpm_refine``'s annotation (core/validate.py)."""
    if value is None or value == MODEL:
        return value
    if isinstance(value, str):
        raise ConfigError(name, f"expected an integer >= {MIN_WORKING_SIZE}, '{MODEL}' (the value in "
                                f"the checkpoint's config.yaml) or null (native), got {value!r}")
    return check_int(name, value, low=MIN_WORKING_SIZE, high=MAX_WORKING_SIZE)


def config_working_size(config: dict[str, Any], source: str) -> int | None:
    """The ``working_size`` recorded in a checkpoint config (None when absent: trained at native size)."""
    value = config.get("working_size")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_WORKING_SIZE <= value <= MAX_WORKING_SIZE:
        raise ValueError(f"{source}: working_size must be an integer in [{MIN_WORKING_SIZE}, {MAX_WORKING_SIZE}], "
                         f"got {short_repr(value)}")
    return value
