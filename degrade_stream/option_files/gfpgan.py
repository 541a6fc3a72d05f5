"""GFPGAN option files -> the ``face`` stage.

Source: TencentARC/GFPGAN ``options/train_gfpgan_v1.yml`` (commit 658df4d8913d8696789aff00b43e65f20b0a9c1c), the
``datasets.train`` keys as ``FFHQDegradationDataset`` (gfpgan/data/ffhq_degradation_dataset.py, commit
be73d6d9a4d95e6a9684163a5e42bfda1990714e) reads them:

- ``blur_kernel_size`` is the stage's ``kernel_size``; ``kernel_list`` + ``kernel_prob`` become ``iso_aniso_prob``
  (the face stage draws isotropic and anisotropic Gaussians, the kinds GFPGAN lists);
- ``blur_sigma``, ``downsample_range``, ``noise_range``, ``jpeg_range``, ``color_jitter_prob``,
  ``color_jitter_shift``, ``color_jitter_pt_prob``, ``gray_prob`` and the jitter ranges ``brightness``,
  ``contrast``, ``saturation``, ``hue`` keep their names; the dataset's defaults fill the missing ones, and ``~``
  (null) switches a step off as in the dataset (``noise_range: ~``: no noise; ``hue: ~``: no hue step);
- GFPGAN resizes with ``cv2.INTER_LINEAR`` both ways: ``interpolation_prob: [0, 1, 0]``, ``antialias: false``;
- ``gt_gray: true`` (the GT made gray with its LQ) acts on the GT, which a chain does not change: refused.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..core.errors import ConfigError, closest
from .mapping import OptionMapping

_SAME = ("blur_sigma", "downsample_range", "noise_range", "jpeg_range", "color_jitter_shift", "brightness",
         "contrast", "saturation", "hue")
_PROBS = ("color_jitter_prob", "color_jitter_pt_prob", "gray_prob")
#: what ``~`` (null) means where the dataset skips a step: no noise; a jitter step left out is its identity factor
_OFF = {"noise_range": [0.0, 0.0], "brightness": [1.0, 1.0], "contrast": [1.0, 1.0], "saturation": [1.0, 1.0],
        "hue": [0.0, 0.0]}
KNOWN = frozenset(_SAME + _PROBS) | {"blur_kernel_size", "kernel_list", "kernel_prob", "gt_gray"}
#: datasets.train keys of GFPGAN's options that do not concern the LQ degradation
IGNORED = frozenset({
    "name", "type", "dataroot_gt", "io_backend", "use_hflip", "mean", "std", "out_size", "crop_components",
    "component_path", "eye_enlarge_ratio", "use_shuffle", "num_worker_per_gpu", "batch_size_per_gpu",
    "dataset_enlarge_ratio", "prefetch_mode", "pin_memory", "persistent_workers", "phase", "scale"})
DATASET = "FFHQDegradationDataset"
KINDS = ("iso", "aniso")


def iso_aniso_prob(names: Any, weights: Any) -> list[float]:
    """``[p_iso, p_aniso]`` from GFPGAN's parallel ``kernel_list`` / ``kernel_prob``."""
    if not isinstance(names, (list, tuple)) or not isinstance(weights, (list, tuple)) or len(names) != len(weights):
        raise ConfigError("kernel_prob", f"kernel_list and kernel_prob must be lists of the same length, got "
                                         f"{names!r} and {weights!r}")
    out = [0.0, 0.0]
    for name, weight in zip(names, weights):
        if name not in KINDS:
            raise ConfigError("kernel_list", f"{name!r} is not a kernel of the face stage{closest(str(name), KINDS)}; "
                                             f"it draws {list(KINDS)}")
        out[KINDS.index(name)] += float(weight)
    return out


def translate(keys: Mapping[str, Any]) -> dict[str, Any]:
    """GFPGAN ``datasets.train`` keys -> ``face`` stage arguments."""
    if keys.get("gt_gray"):
        raise ConfigError("gt_gray", "true makes the GT gray with its LQ; a degradation chain leaves the GT as it is")
    if keys.get("jpeg_range", []) is None:
        raise ConfigError("jpeg_range", "~ (no JPEG) is not a choice of the face stage, which always compresses")
    args: dict[str, Any] = {"interpolation_prob": [0.0, 1.0, 0.0], "antialias": False}
    if "blur_kernel_size" in keys:
        args["kernel_size"] = keys["blur_kernel_size"]
    if "kernel_list" in keys or "kernel_prob" in keys:
        if "kernel_list" not in keys or "kernel_prob" not in keys:
            raise ConfigError("kernel_prob" if "kernel_prob" not in keys else "kernel_list",
                              "kernel_list and kernel_prob go together")
        args["iso_aniso_prob"] = iso_aniso_prob(keys["kernel_list"], keys["kernel_prob"])
    for key in _SAME:
        if key in keys:
            args[key] = _OFF.get(key) if keys[key] is None else _floats(keys[key])
    for key in _PROBS:  # the dataset reads them with opt.get: absent or ~ is off
        args[key] = keys.get(key) or 0.0
    return args


def _floats(value: Any) -> Any:
    """A YAML [low, high] pair as floats (10 -> 10.0), anything else unchanged for the stage to check."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return [float(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _is_gfpgan(options: Mapping[str, Any]) -> bool:
    train = options.get("datasets", {}).get("train", {}) if isinstance(options.get("datasets"), Mapping) else {}
    return options.get("model_type") == "GFPGANModel" or (isinstance(train, Mapping) and train.get("type") == DATASET)


MAPPING = OptionMapping(
    reference="gfpgan", stage="face", source="TencentARC/GFPGAN options/train_gfpgan_v1.yml",
    sections=("datasets.train",), known=KNOWN, ignored=IGNORED, translate=translate, detect=_is_gfpgan)
