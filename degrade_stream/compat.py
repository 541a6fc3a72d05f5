"""Import shims for known breakages of third-party packages; each does nothing when not needed."""
from __future__ import annotations

import importlib
import sys


def ensure_torchvision_importable() -> None:
    """Make ``import torchvision`` work on CPU-only torch.

    The PyPI torchvision wheel's C++ ops cannot load beside a CPU-only torch, and its Python side
    then fails with "operator torchvision::nms does not exist". Declaring the two op schemas it
    registers fakes for (nms, qnms) lets the import succeed; the ops themselves stay unavailable.
    """
    if "torchvision" in sys.modules:
        return
    try:
        importlib.import_module("torchvision")
        return
    except RuntimeError as err:
        if "torchvision::nms" not in str(err):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    import torch

    lib = torch.library.Library("torchvision", "DEF")  # noqa: F841  (kept alive below)
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
    _KEEP.append(lib)
    importlib.import_module("torchvision")


def alias_torchvision_functional_tensor() -> None:
    """basicsr 1.4.2 imports ``torchvision.transforms.functional_tensor`` (renamed in 0.17)."""
    ensure_torchvision_importable()
    try:
        importlib.import_module("torchvision.transforms.functional_tensor")
    except ImportError:
        sys.modules["torchvision.transforms.functional_tensor"] = importlib.import_module(
            "torchvision.transforms._functional_tensor")


_KEEP: list = []
