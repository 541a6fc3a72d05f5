"""The paper authors' release's option file -> the ``realesrgan`` stage.

Source: yangxy/synthesizing_realistic_training_pairs ``dataloader/params_realesrgan.yml``, read by
``dataloader/realesrgan.py`` ``RealESRGAN_degradation`` (commit 75d6529): Real-ESRGAN's keys at the top level,
the kernel keys under ``kernel_info``, plus ``color_jitter_prob`` and ``gray_prob`` (an HQ augmentation; its
colour jitter cannot run, it reads an undefined ``shift``: only 0 is accepted for both). The release does not
sharpen the input (its USM line is commented out) and fixes the scale at 4.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..core.errors import ConfigError
from . import realesrgan
from .mapping import OptionMapping


def translate(keys: Mapping[str, Any]) -> dict[str, Any]:
    """The release's keys -> ``realesrgan`` stage arguments (no USM of the input)."""
    for key in ("color_jitter_prob", "gray_prob"):
        if keys.get(key, 0) not in (0, 0.0):
            raise ConfigError(key, f"only 0 is supported (the release's HQ augmentation), got {keys[key]!r}")
    scale = keys.get("scale", 4)
    if scale != 4:
        raise ConfigError("scale", f"the release degrades at scale 4 whatever this key says (scale_final = 4), "
                                   f"got {scale!r}")
    args = realesrgan.translate({k: v for k, v in keys.items() if k not in ("color_jitter_prob", "gray_prob")})
    return {**args, "sharpen_input": False}


MAPPING = OptionMapping(
    reference="realesrgan_release", stage="realesrgan",
    source="yangxy/synthesizing_realistic_training_pairs dataloader/params_realesrgan.yml",
    sections=("", "kernel_info"), known=realesrgan.KNOWN | {"color_jitter_prob", "gray_prob"},
    ignored=frozenset({"kernel_info"}), translate=translate, detect=lambda options: "kernel_info" in options)
