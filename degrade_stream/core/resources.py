"""Where the shipped configs and assets live, installed (package data) or in a source checkout."""
from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def configs_root() -> Path:
    """The folder of shipped YAML configs (``configs/`` at the top of the source tree)."""
    try:
        import degrade_stream.configs as shipped  # installed: mapped under the package by setup.py

        return Path(shipped.__path__[0])
    except ImportError:
        return _PACKAGE_DIR.parent / "configs"


def assets_root() -> Path:
    """The folder of shipped binary assets (demo model weights, sample images)."""
    return _PACKAGE_DIR / "assets"
