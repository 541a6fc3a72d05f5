"""The reference option sets the reference tests share: Real-ESRGAN's x4plus file (shipped in tests/data/options),
the release's params_realesrgan.yml values, and a resize-dominated variant of x4plus; ``flat`` merges an options
file's top level and ``datasets.train`` (or ``kernel_info``) as BasicSR's model and dataset each read their part."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import yaml

OPTIONS = Path(__file__).parent / "data" / "options"
X4PLUS_FILE = OPTIONS / "train_realesrgan_x4plus.yml"

_KINDS = ["iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso"]
#: yangxy/synthesizing_realistic_training_pairs dataloader/params_realesrgan.yml (commit 75d6529; the values of the
#: copy in wuer5/OMGSR, see configs/chains/realesrgan_release.yaml), in its own layout (kernel keys under kernel_info)
RELEASE = {"scale": 4, "color_jitter_prob": 0.0, "gray_prob": 0.0, "resize_prob": [0.2, 0.7, 0.1],
           "resize_range": [0.3, 1.5], "gaussian_noise_prob": 0.5, "noise_range": [1, 15],
           "poisson_scale_range": [0.05, 2.0], "gray_noise_prob": 0.4, "jpeg_range": [60, 95], "second_blur_prob": 0.5,
           "resize_prob2": [0.3, 0.4, 0.3], "resize_range2": [0.6, 1.2], "gaussian_noise_prob2": 0.5,
           "noise_range2": [1, 12], "poisson_scale_range2": [0.05, 1.0], "gray_noise_prob2": 0.4, "jpeg_range2": [60, 100],
           "kernel_info": {"kernel_list": _KINDS, "kernel_prob": [0.45, 0.25, 0.12, 0.03, 0.12, 0.03], "sinc_prob": 0.1,
                           "blur_sigma": [0.2, 3], "betag_range": [0.5, 4], "betap_range": [1, 2],
                           "kernel_list2": _KINDS, "kernel_prob2": [0.45, 0.25, 0.12, 0.03, 0.12, 0.03],
                           "sinc_prob2": 0.1, "blur_sigma2": [0.2, 1.5], "betag_range2": [0.5, 4],
                           "betap_range2": [1, 2], "final_sinc_prob": 0.8}}
#: x4plus with the degradation reduced to its resizes (light iso blur, no noise, JPEG 95, shrinking resizes), so
#: that how a resize filters (anti-aliased or not) dominates the LQ statistics
RESIZE_ONLY_CHANGES = {"kernel_list": ["iso"], "kernel_prob": [1.0], "blur_sigma": [0.2, 0.3], "sinc_prob": 0.0,
                       "second_blur_prob": 0.0, "final_sinc_prob": 0.0, "gaussian_noise_prob": 1.0,
                       "noise_range": [0, 0], "gaussian_noise_prob2": 1.0, "noise_range2": [0, 0],
                       "jpeg_range": [95, 95], "jpeg_range2": [95, 95], "resize_prob": [0, 1, 0],
                       "resize_range": [0.3, 0.6], "resize_prob2": [0, 1, 0], "resize_range2": [0.5, 1.0]}


def read(path: Path = X4PLUS_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def flat(options: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level keys merged with ``datasets.train`` / ``kernel_info`` (a flat dict of every degradation key)."""
    nested = options.get("datasets", {}).get("train", {}) if "datasets" in options else options.get("kernel_info", {})
    top = {k: v for k, v in options.items() if k not in ("datasets", "kernel_info")}
    return {**top, **nested}


def x4plus_with(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The x4plus options file with ``changes`` applied where each key lives (top level or datasets.train)."""
    options = read()
    train = options["datasets"]["train"]
    for key, value in changes.items():
        (train if key in train else options)[key] = value
    return options
