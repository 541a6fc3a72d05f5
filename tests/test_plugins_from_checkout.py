"""The plugins as a reader and a new user meet them in a clone (issue 22, issue 25): every import under plugins/
is absolute, and the training entry points run from the clone's root, where ``python -m`` puts the checkout's
``degrade_stream/`` folder ahead of the installed package (degrade_stream/source_checkout.py says why that failed)."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from degrade_stream import source_checkout

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_under_plugins_is_absolute():
    relative = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                relative.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not relative, relative


def test_checkout_finder_maps_the_two_folders_only_in_a_checkout(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    checkout = tmp_path / "checkout"
    for folder in ("fakepkg", "plugins", "configs"):
        (checkout / folder).mkdir(parents=True)
        (checkout / folder / "__init__.py").write_text("")
    (checkout / "plugins" / "extra.py").write_text("VALUE = 7\n")
    source_checkout.install(checkout / "fakepkg")
    assert not any(isinstance(f, source_checkout.CheckoutFinder) and "fakepkg.plugins" in f.folders
                   for f in sys.meta_path)  # no setup.py: not a checkout
    (checkout / "setup.py").write_text("")
    source_checkout.install(checkout / "fakepkg")
    monkeypatch.syspath_prepend(str(checkout))
    import fakepkg.configs  # noqa: F401
    import fakepkg.plugins.extra  # noqa: F401

    assert sys.modules["fakepkg.plugins.extra"].VALUE == 7
    assert Path(sys.modules["fakepkg.configs"].__file__).parent == checkout / "configs"
    for name in [m for m in sys.modules if m == "fakepkg" or m.startswith("fakepkg.")]:
        monkeypatch.delitem(sys.modules, name)
    installed = tmp_path / "site" / "fakepkg"
    (installed / "plugins").mkdir(parents=True)  # setup.py put the folders inside the package
    (tmp_path / "site" / "setup.py").write_text("")
    before = len(sys.meta_path)
    source_checkout.install(installed)
    assert len(sys.meta_path) == before  # nothing to map


def _python_without_editable_finder(tmp_path: Path) -> Path:
    """A venv whose only packages are this interpreter's, listed in a .pth: their own .pth files (an editable
    install's finder among them) do not run, as after a regular ``pip install .``."""
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env)
    site = next((env / "lib").glob("python*/site-packages"))
    # Only the clone root itself is left out (python -m puts it first anyway). A venv inside the clone, as the
    # README's commands make (.venv/), holds torch and the installed package, so its site-packages stay.
    dirs = [p for p in sys.path if p and Path(p).is_dir() and Path(p).resolve() != ROOT]
    (site / "deps.pth").write_text("\n".join(dirs) + "\n")
    return env / "bin" / "python"


@pytest.mark.slow
@pytest.mark.parametrize("module,expect", [("degrade_stream.plugins.basicsr.train", "-opt"),
                                           ("degrade_stream.plugins.mmagic.train", "--work-dir")])
def test_training_entry_points_run_from_the_clone_root(tmp_path, module, expect):
    python = _python_without_editable_finder(tmp_path)
    run = subprocess.run([str(python), "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert expect in run.stdout
