"""Import mmagic 1.2.0's registries and SR models in today's environment; each shim is guarded.

- numpy 2 removed ``np.bool8``, which mmagic still names: aliased to ``np.bool_`` when missing.
- ``import torchvision`` on CPU-only torch: ``degrade_stream.compat.ensure_torchvision_importable``.
- ``mmagic.models.archs`` registers every diffusers model and pipeline by walking ``dir()``; with
  diffusers >= 0.2x that walk hits lazily-listed pipelines that no longer exist and the import fails.
  The plugin uses none of those wrappers, so that one walk is shown an empty diffusers.
- ``mmagic.models.editors/__init__`` imports all ~60 model families at once, and several need
  transformers, mmcv's compiled ops or an older diffusers. It is skipped: each family is imported
  on its own and those that fail are left out (listed in ``SKIPPED_EDITORS``), so the SR models
  (MSRResNet, EDSR, RRDBNet, SwinIR, Real-ESRGAN, ...) register whatever else is missing.
Then ``init_default_scope('mmagic')``, which mmagic's registries need before building.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
import types

import numpy as np

from degrade_stream.compat import ensure_torchvision_importable

logger = logging.getLogger("degrade_stream.plugins.mmagic")

#: editor family -> why its import failed (missing optional dependency, ...)
SKIPPED_EDITORS: dict[str, str] = {}


def import_mmagic() -> None:
    """Make ``mmagic.registry`` and ``mmagic.models`` usable, and set mmagic as the default scope; idempotent."""
    if not hasattr(np, "bool8"):
        np.bool8 = np.bool_  # type: ignore[attr-defined]
    ensure_torchvision_importable()
    if "mmagic.models" not in sys.modules:
        _import_models_skipping_editor_index()
    import mmagic.datasets  # noqa: F401  (registers datasets and transforms)
    from mmengine.registry import init_default_scope

    init_default_scope("mmagic")


def _import_models_skipping_editor_index() -> None:
    import mmagic.utils

    spec = importlib.util.find_spec("mmagic.models")
    editors_dir = [str(p) for p in spec.submodule_search_locations][0] + "/editors"
    editors = types.ModuleType("mmagic.models.editors", "mmagic's editors, imported one family at a time")
    editors.__path__ = [editors_dir]
    editors.__package__ = "mmagic.models.editors"
    sys.modules["mmagic.models.editors"] = editors

    real_try_import = mmagic.utils.try_import

    def try_import_without_diffusers_walk(name: str):
        if name == "diffusers":  # only mmagic.models.archs asks, to walk and register everything
            return types.SimpleNamespace(models=types.ModuleType("models"), pipelines=types.ModuleType("pipelines"),
                                         DiffusionPipeline=type("DiffusionPipeline", (), {}))
        return real_try_import(name)

    mmagic.utils.try_import = try_import_without_diffusers_walk
    try:
        importlib.import_module("mmagic.models")
    finally:
        mmagic.utils.try_import = real_try_import
    public: list[str] = []
    for info in pkgutil.iter_modules([editors_dir]):
        name = f"mmagic.models.editors.{info.name}"
        try:
            module = importlib.import_module(name)
        except Exception as err:  # optional dependencies of families the plugin does not need
            SKIPPED_EDITORS[info.name] = f"{type(err).__name__}: {err}"
            continue
        for attr in getattr(module, "__all__", []):
            setattr(editors, attr, getattr(module, attr))
            public.append(attr)
    editors.__all__ = public
    if SKIPPED_EDITORS:
        logger.info("mmagic editor families not importable here (left out): %s", ", ".join(sorted(SKIPPED_EDITORS)))
