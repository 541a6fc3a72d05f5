"""GFPGAN's own degradation path, run as GFPGAN runs it: ``FFHQDegradationDataset`` from the installed gfpgan
package (TencentARC/GFPGAN gfpgan/data/ffhq_degradation_dataset.py; gfpgan 1.3.8 ships the file of commit
be73d6d9a4d95e6a9684163a5e42bfda1990714e) on BasicSR 1.4.2 and OpenCV, drawing from numpy's and torch's global
RNGs. The reference of tests/test_face_degradation_gfpgan.py and benchmarks/bench_face.py.

Two adaptations, neither of which edits GFPGAN's or BasicSR's code:

- the dataset's module file is loaded by its path: ``import gfpgan`` runs gfpgan/__init__.py, which imports
  every GFPGAN architecture and facexlib's face detectors; the dataset uses none of them;
- ``cv2.imencode`` receives integer parameters (``opencv_int_params``): BasicSR's
  ``random_add_jpg_compression`` passes the float ``np.random.uniform(60, 100)`` as the JPEG quality, which
  OpenCV >= 4.7 refuses and the OpenCV of GFPGAN's time truncated to an int.

``tests/install_frameworks.sh`` installs gfpgan without its dependency list.
"""
from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: train_gfpgan_v1.yml's degradation keys, as shipped test data (its source is recorded in the file)
OPTIONS = ROOT / "tests" / "data" / "options" / "train_gfpgan_v1.yml"
_MODULE = "gfpgan_ffhq_degradation_dataset"


def degradation_options(path: Path = OPTIONS) -> dict[str, Any]:
    """The ``datasets.train`` mapping of a GFPGAN options file."""
    return yaml.safe_load(path.read_text())["datasets"]["train"]


def dataset_class() -> type:
    """GFPGAN's ``FFHQDegradationDataset`` class, its module loaded once from the installed package."""
    if _MODULE not in sys.modules:
        from degrade_stream import compat

        compat.alias_torchvision_functional_tensor()  # basicsr 1.4.2 with current torchvision
        spec = importlib.util.find_spec("gfpgan")  # finds the package without running its __init__
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("gfpgan is not installed (bash tests/install_frameworks.sh PYTHON)")
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / "ffhq_degradation_dataset.py"
        module_spec = importlib.util.spec_from_file_location(_MODULE, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[_MODULE] = module
        module_spec.loader.exec_module(module)
    return sys.modules[_MODULE].FFHQDegradationDataset


def make_dataset(folder: Path, options: dict[str, Any]) -> Any:
    """``FFHQDegradationDataset`` over the images of ``folder`` with the degradation ``options``; LQ and GT in
    [0, 1] (mean 0, std 1), no flip, no facial components."""
    opt = {**options, "dataroot_gt": str(folder), "io_backend": {"type": "disk"}, "mean": [0.0, 0.0, 0.0],
           "std": [1.0, 1.0, 1.0], "out_size": 0, "use_hflip": False, "crop_components": False}
    return dataset_class()(opt)


@contextlib.contextmanager
def opencv_int_params() -> Iterator[None]:
    """``cv2.imencode`` with its parameters truncated to int, as OpenCV < 4.7 converted them."""
    import cv2

    real = cv2.imencode

    def imencode(ext: str, img: Any, params: Any = None) -> Any:
        return real(ext, img, [int(p) for p in params] if params is not None else [])

    cv2.imencode = imencode
    try:
        yield
    finally:
        cv2.imencode = real
