"""``degrade_stream.plugins`` and ``degrade_stream.configs`` when the package is imported from a source checkout.

setup.py installs the checkout's top-level ``plugins/`` and ``configs/`` folders as ``degrade_stream.plugins`` and
``degrade_stream.configs`` (``package_dir``); the checkout itself has no such folders inside ``degrade_stream/``.
``python -m`` and ``python -c`` put the current directory first on ``sys.path``, so from the checkout's root
``import degrade_stream`` finds the checkout's ``degrade_stream/`` folder ahead of the installed package, and the
submodule search then looks only inside that folder: ``python -m degrade_stream.plugins.basicsr.train`` failed
there with "No module named 'degrade_stream.plugins'" after a regular ``pip install .`` (an editable install hid
it: setuptools' editable finder holds the same mapping).

``install`` gives the import system setup.py's mapping for these two names, when the package was imported from a
checkout, as the last finder on ``sys.meta_path``: it answers only what the normal search did not find.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence

#: top-level folders of the checkout that setup.py installs under the package (its ``package_dir``)
SUBPACKAGES = ("plugins", "configs")


class CheckoutFinder(importlib.abc.MetaPathFinder):
    """Finds ``degrade_stream.<name>`` in the checkout's top-level ``<name>/`` folder."""

    def __init__(self, folders: dict[str, Path]) -> None:
        self.folders = folders

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        folder = self.folders.get(fullname)
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(fullname, folder / "__init__.py",
                                                      submodule_search_locations=[str(folder)])


def install(package_dir: Path) -> None:
    """Map ``degrade_stream.plugins``/``.configs`` to the checkout's folders if ``package_dir`` (the imported
    ``degrade_stream`` folder) sits in a checkout; does nothing for an installed package or a second call."""
    root = package_dir.parent
    if not (root / "setup.py").is_file():
        return
    known = {name for f in sys.meta_path if isinstance(f, CheckoutFinder) for name in f.folders}
    folders = {f"{package_dir.name}.{name}": root / name for name in SUBPACKAGES
               if (root / name / "__init__.py").is_file() and not (package_dir / name).exists()}
    folders = {name: folder for name, folder in folders.items() if name not in known}
    if folders:
        sys.meta_path.append(CheckoutFinder(folders))
