"""Real-ESRGAN / BasicSR option files -> the ``realesrgan`` stage.

Source: xinntao/Real-ESRGAN ``options/train_realesrgan_x4plus.yml`` (commit 0011624) and
``train_realesrnet_x4plus.yml``; the keys as ``RealESRGANModel.feed_data`` (top level) and ``RealESRGANDataset``
(``datasets.train``) read them. Also BasicSR 1.4.2's copies (``options/train/RealESRGAN/``).

- The top-level first- and second-order keys (``resize_prob`` ... ``jpeg_range2``, ``second_blur_prob``) and the
  dataset's kernel keys keep their names. ``kernel_list`` + ``kernel_prob`` become the six weights of
  ``kernel_prob`` (in ``settings.KINDS`` order; kinds not listed get 0).
- ``blur_kernel_size`` / ``blur_kernel_size2`` are read by the dataset but never used (its sizes are always
  7..21), so here too: ``kernel_range`` stays [7, 21] whatever they say.
- ``RealESRGANModel`` always degrades the USM-sharpened GT; ``RealESRNetModel`` does when ``gt_usm`` is true
  (``sharpen_input``). Whether the losses see the sharpened GT (``gt_usm``, ``l1_gt_usm``, ``percep_gt_usm``) is a
  training choice: PairStream / DegradeStreamDataset's ``gt_usm`` option (docs/frameworks.md, "Real-ESRGAN's sharpened GT").
- The reference's resize and JPEG come with it: ``antialias: false``, ``jpeg: diffjpeg``.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..core.errors import ConfigError, closest
from ..degrade.settings import KINDS
from .mapping import OptionMapping

_SAME = ("scale", "resize_prob", "resize_range", "gaussian_noise_prob", "noise_range", "poisson_scale_range",
         "gray_noise_prob", "jpeg_range", "second_blur_prob", "resize_prob2", "resize_range2", "gaussian_noise_prob2",
         "noise_range2", "poisson_scale_range2", "gray_noise_prob2", "jpeg_range2", "sinc_prob", "blur_sigma",
         "betag_range", "betap_range", "sinc_prob2", "blur_sigma2", "betag_range2", "betap_range2", "final_sinc_prob")
KNOWN = frozenset(_SAME) | {"kernel_list", "kernel_prob", "kernel_list2", "kernel_prob2", "blur_kernel_size",
                            "blur_kernel_size2", "gt_usm", "model_type", "high_order_degradation"}
#: BasicSR option keys beside the degradation ones (top level and datasets.train) that do not concern it
IGNORED = frozenset({
    "name", "num_gpu", "manual_seed", "network_g", "network_d", "path", "train", "val", "logger", "dist_params",
    "l1_gt_usm", "percep_gt_usm", "gan_gt_usm", "gt_size", "queue_size", "is_train", "dist", "rank", "world_size",
    "auto_resume", "find_unused_parameters", "use_static_graph", "type", "dataroot_gt", "meta_info", "io_backend",
    "use_hflip", "use_rot", "use_shuffle", "num_worker_per_gpu", "batch_size_per_gpu", "dataset_enlarge_ratio",
    "prefetch_mode", "pin_memory", "persistent_workers", "phase", "filename_tmpl", "crop_pad_size"})
MODELS = ("RealESRGANModel", "RealESRNetModel")


def kind_weights(names: Any, weights: Any, list_key: str, prob_key: str) -> list[float]:
    """Weights over ``KINDS`` from Real-ESRGAN's parallel ``kernel_list`` / ``kernel_prob``."""
    if not isinstance(names, (list, tuple)) or not isinstance(weights, (list, tuple)) or len(names) != len(weights):
        raise ConfigError(prob_key, f"{list_key} and {prob_key} must be lists of the same length, got {names!r} and "
                                    f"{weights!r}")
    out = [0.0] * len(KINDS)
    for name, weight in zip(names, weights):
        if name not in KINDS:
            raise ConfigError(list_key, f"unknown kernel {name!r}{closest(str(name), KINDS)}; known: {list(KINDS)}")
        out[KINDS.index(name)] += float(weight)
    return out


def _kernel_size(keys: Mapping[str, Any], key: str) -> None:
    value = keys.get(key, 21)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(key, f"expected a positive integer, got {value!r}")


def translate(keys: Mapping[str, Any]) -> dict[str, Any]:
    """Real-ESRGAN option keys -> ``realesrgan`` stage arguments."""
    if keys.get("high_order_degradation", True) is not True:
        raise ConfigError("high_order_degradation", "false: the model trains on paired data and synthesises no LQ; "
                                                    "there is no degradation to import")
    model = keys.get("model_type")
    if model is not None and model not in MODELS:
        raise ConfigError("model_type", f"{model!r} is not one of Real-ESRGAN's models {list(MODELS)}")
    gt_usm = keys.get("gt_usm", True)
    if not isinstance(gt_usm, bool):
        raise ConfigError("gt_usm", f"expected true/false, got {gt_usm!r}")
    args: dict[str, Any] = {"antialias": False, "jpeg": "diffjpeg",
                            "sharpen_input": True if model == "RealESRGANModel" else gt_usm}
    args.update({key: keys[key] for key in _SAME if key in keys})
    for suffix in ("", "2"):
        _kernel_size(keys, f"blur_kernel_size{suffix}")
        list_key, prob_key = f"kernel_list{suffix}", f"kernel_prob{suffix}"
        if list_key in keys or prob_key in keys:
            if list_key not in keys or prob_key not in keys:
                raise ConfigError(prob_key if prob_key not in keys else list_key, f"{list_key} and {prob_key} go together")
            args[prob_key] = kind_weights(keys[list_key], keys[prob_key], list_key, prob_key)
    return args


MAPPING = OptionMapping(
    reference="realesrgan", stage="realesrgan",
    source="xinntao/Real-ESRGAN options/train_realesrgan_x4plus.yml",
    sections=("", "datasets.train"), known=KNOWN, ignored=IGNORED, translate=translate,
    detect=lambda options: options.get("model_type") in MODELS
    or "resize_prob" in options and "kernel_info" not in options)
