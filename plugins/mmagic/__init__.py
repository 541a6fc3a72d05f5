"""mmagic adapter: the ``DegradeStream`` pipeline transform (``TRANSFORMS``) and the
``DegradeStreamDataPreprocessor`` (``MODELS``), plus a training entry point.

In a config: ``custom_imports = dict(imports=['degrade_stream.plugins.mmagic'], allow_failed_imports=False)``.
Train with ``python -m degrade_stream.plugins.mmagic.train CONFIG [--work-dir DIR]``; an example config
ships beside this file (``msrresnet_x4_degrade_stream.py``, ``config_files()``).
"""
from __future__ import annotations

from pathlib import Path

from degrade_stream.plugins.mmagic.imports import import_mmagic
from degrade_stream.plugins.mmagic.preprocessor import DegradeStreamDataPreprocessor
from degrade_stream.plugins.mmagic.transform import DegradeStream


def config_files() -> dict[str, Path]:
    """The shipped example configs, name -> path."""
    return {p.stem: p for p in sorted(Path(__file__).parent.glob("*_degrade_stream*.py"))}


__all__ = ["DegradeStream", "DegradeStreamDataPreprocessor", "config_files", "import_mmagic"]
