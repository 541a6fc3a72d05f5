"""setup.py declares exactly what the code imports: every third-party module imported by degrade_stream/ and
plugins/ is a requirement (or an optional framework/extra), and every requirement is imported somewhere."""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: import name -> distribution name, where they differ
DISTRIBUTION = {"yaml": "pyyaml", "PIL": "pillow"}
#: imported only where the user opts in: the "plot" and "calibrate" extras, and the frameworks the plugins adapt
OPTIONAL = {"matplotlib", "cmaes", "basicsr", "mmagic", "mmengine", "mmcv", "ray", "webdataset"}


def _setup_list(keyword: str) -> list[str]:
    """The requirement names in setup.py's ``keyword=[...]`` (read with ast, nothing executed)."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == keyword:
            return [re.split(r"[<>=!~\[ ;]", item.value)[0].lower() for item in node.value.elts]
    raise AssertionError(f"setup.py has no {keyword}=")


def _imported_modules() -> dict[str, str]:
    """Top-level module -> one file importing it, over degrade_stream/ and plugins/ (import_module strings too)."""
    found: dict[str, str] = {}
    for path in sorted([*(ROOT / "degrade_stream").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and node.args
                  and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module" and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                names = [node.args[0].value]
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_declared_and_every_requirement_is_used():
    required = _setup_list("install_requires")
    imported = {m: f for m, f in _imported_modules().items()
                if m not in sys.stdlib_module_names and m != "degrade_stream"}
    undeclared = {m: f for m, f in imported.items()
                  if DISTRIBUTION.get(m, m).lower() not in required and m not in OPTIONAL}
    assert not undeclared, f"imported but not in setup.py install_requires: {undeclared}"
    used = {DISTRIBUTION.get(m, m).lower() for m in imported}
    assert not set(required) - used, f"in install_requires but imported nowhere: {sorted(set(required) - used)}"
    assert "torchvision" in required and "timm" not in required


def test_optional_imports_are_an_extra_or_a_plugin_framework():
    imported = _imported_modules()
    assert imported["matplotlib"] == "degrade_stream/cli/sweep_plot.py"  # the "plot" extra, imported lazily
    setup = (ROOT / "setup.py").read_text(encoding="utf-8")
    assert re.search(r'"plot":\s*\["matplotlib', setup)
    assert imported["ray"] == "degrade_stream/scale/ray_data.py" and re.search(r'"ray":\s*\["ray\[data\]', setup)
    assert imported["webdataset"] == "degrade_stream/shards/format.py"  # the "webdataset" extra, imported lazily
    assert re.search(r'"webdataset":\s*\["webdataset', setup)
    for framework in ("basicsr", "mmagic", "mmengine"):
        assert imported[framework].startswith("plugins/"), (framework, imported[framework])
