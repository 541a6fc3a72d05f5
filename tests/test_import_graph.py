"""core is a leaf: no module under degrade_stream/core/ imports anything above it, even lazily (read with
ast, nothing executed); stages from other packages register through ``degrade_stream.stages`` entry points."""
from __future__ import annotations

import ast
import sys
import types
from importlib import metadata
from pathlib import Path

import pytest
import torch

from degrade_stream.core import ConfigError, Transform, load_chain, registered_names
from degrade_stream.core import registry

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "degrade_stream" / "core"
#: modules outside core that core may use: plain helpers that import nothing of degrade_stream (checked below)
LEAVES = {"degrade_stream.atomic": ROOT / "degrade_stream" / "atomic.py",
          "degrade_stream.configs": ROOT / "configs" / "__init__.py"}


def _targets(source: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``source`` (the text of the module at ``path``), functions
    included. ``from X import a`` gives X, except ``from degrade_stream import a`` (or ``from .. import a``
    out of core), which gives degrade_stream.a, since a may be a module; a relative import beyond the top
    package gives '<beyond degrade_stream>'."""
    package = ["degrade_stream", *path.relative_to(ROOT / "degrade_stream").parent.parts]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level > len(package):
                found.append((node.lineno, "<beyond degrade_stream>"))
                continue
            parts = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join(parts + ([node.module] if node.module else []))
            if base == "degrade_stream":
                found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, base))
    return found


def _outside_core(name: str) -> bool:
    """Whether importing ``name`` from core would leave core for something other than a leaf helper."""
    if name == "<beyond degrade_stream>" or name == "degrade_stream":
        return True
    if not name.startswith("degrade_stream."):
        return False  # the standard library, torch, yaml, ...
    allowed = ["degrade_stream.core", *LEAVES]
    return not any(name == a or name.startswith(a + ".") for a in allowed)


def _violations(path: Path, source: str | None = None) -> list[str]:
    """'file:line imports name' for each import that leaves core (``source`` defaults to the file's text)."""
    text = path.read_text(encoding="utf-8") if source is None else source
    return [f"{path.name}:{line} imports {name}" for line, name in _targets(text, path) if _outside_core(name)]


def test_no_core_module_imports_from_above_core():
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) >= 10 and CORE / "registry.py" in modules
    bad = [v for path in modules for v in _violations(path)]
    assert not bad, bad


@pytest.mark.parametrize("source", [
    "from .. import registered_stages", "from ..registered_stages import x", "from ..degrade.blocks import Blur",
    "import degrade_stream.stream", "from degrade_stream.cli import main", "from degrade_stream import metrics",
    "def f():\n    from ..diffusion import refine", "from ...plugins import basicsr",
])
def test_the_check_catches_each_way_of_leaving_core(source):
    bad = _violations(CORE / "_probe.py", source + "\n")  # as if core/_probe.py held this text (nothing written)
    assert bad and bad[0].startswith("_probe.py:"), bad


def test_the_check_sees_a_relative_import_from_a_core_subpackage():
    assert _violations(CORE / "sub" / "_probe.py", "from ...stream import PairStream\n") == [
        "_probe.py:1 imports degrade_stream.stream"]
    assert _violations(CORE / "sub" / "_probe.py", "from .. import errors\n") == []


def test_the_check_allows_imports_within_core_and_of_other_libraries():
    source = ("import torch\nfrom . import errors\nfrom .errors import ConfigError\n"
              "from degrade_stream.core.random import derive_seeds\nimport typing\n")
    assert _violations(CORE / "_probe.py", source) == []


def test_the_leaf_helpers_core_uses_import_nothing_of_degrade_stream():
    for name, path in LEAVES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
        ours = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
                if a.name.startswith("degrade_stream")]
        ours += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level
                 and (n.module or "").startswith("degrade_stream")]
        assert not relative and not ours, (name, relative, ours)


def test_builtins_are_registered_by_importing_the_package():
    names = registered_names()
    for name in ("identity", "bicubic", "classical", "bsrgan", "realesrgan", "ddpm_refine", "round8"):
        assert name in names, name
    assert registry.transform_class("bicubic").__module__ == "degrade_stream.degrade.bicubic"


# --- entry points ------------------------------------------------------------------------------------
class _PluginNoise(Transform):
    """A stand-in third-party stage: adds a constant, so the test sees it ran."""

    def __init__(self, amount: float = 0.25) -> None:
        self.amount = amount

    def apply(self, batch: torch.Tensor, params: dict) -> torch.Tensor:
        return batch + self.amount


def _install(monkeypatch: pytest.MonkeyPatch, *points: tuple[str, str]) -> None:
    """Make ``importlib.metadata.entry_points(group=...)`` list ``points`` (name, value) in the stage group."""
    made = [metadata.EntryPoint(name, value, registry.ENTRY_POINT_GROUP) for name, value in points]

    def entry_points(**selection: str) -> list[metadata.EntryPoint]:
        assert selection == {"group": registry.ENTRY_POINT_GROUP}
        return list(made)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    monkeypatch.setattr(registry, "_TRANSFORMS", dict(registry._TRANSFORMS))  # leaves nothing behind


def _plugin_module(monkeypatch: pytest.MonkeyPatch, name: str, **attributes: object) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    monkeypatch.setitem(sys.modules, name, module)


def test_a_stage_from_an_entry_point_is_found_by_name_and_runs(monkeypatch):
    _plugin_module(monkeypatch, "ds_test_plugin", PluginNoise=_PluginNoise)
    _install(monkeypatch, ("plugin_noise", "ds_test_plugin:PluginNoise"))
    assert "plugin_noise" in registered_names() and "plugin_noise" not in registry._TRANSFORMS  # listed, not loaded
    assert registry.transform_class("plugin_noise") is _PluginNoise
    assert _PluginNoise.type_name == "plugin_noise"
    chain = load_chain({"stages": [{"type": "plugin_noise", "amount": 0.5}]})
    out = chain(torch.zeros(1, 3, 4, 4), seed=0).lq
    assert torch.equal(out, torch.full((1, 3, 4, 4), 0.5))


def test_an_entry_point_module_that_registers_itself_is_used_as_is(monkeypatch):
    _install(monkeypatch, ("self_registered", "ds_test_self_plugin"))

    class SelfRegistered(_PluginNoise):
        pass

    def load(self: metadata.EntryPoint) -> object:  # what importing a module with @ds.register would do
        registry.register("self_registered")(SelfRegistered)
        return types.ModuleType("ds_test_self_plugin")

    monkeypatch.setattr(metadata.EntryPoint, "load", load)
    assert registry.transform_class("self_registered") is SelfRegistered


def test_a_broken_entry_point_gives_an_error_naming_it(monkeypatch):
    _install(monkeypatch, ("broken_stage", "ds_test_missing_package.stages:Broken"))
    with pytest.raises(ConfigError) as err:
        load_chain({"stages": [{"type": "broken_stage"}]})
    message = str(err.value)
    assert message.startswith("stages[0].type: stage type 'broken_stage': the entry point "
                              "'broken_stage = ds_test_missing_package.stages:Broken' (group degrade_stream.stages) "
                              "failed to load: ModuleNotFoundError: No module named 'ds_test_missing_package'"), message


def test_an_entry_point_that_is_not_a_stage_gives_an_error_naming_it(monkeypatch):
    _plugin_module(monkeypatch, "ds_test_not_a_stage", thing=42)
    _install(monkeypatch, ("not_a_stage", "ds_test_not_a_stage:thing"))
    with pytest.raises(ConfigError, match=r"^type: stage type 'not_a_stage': the entry point 'not_a_stage = "
                                          r"ds_test_not_a_stage:thing' .* gave 42, which is not a Transform subclass"):
        registry.transform_class("not_a_stage")
    assert "not_a_stage" not in registry._TRANSFORMS


def test_two_packages_claiming_one_name_is_an_error(monkeypatch):
    _install(monkeypatch, ("twice", "pkg_a:Stage"), ("twice", "pkg_b:Stage"))
    with pytest.raises(ConfigError, match=r"'twice' is declared by several entry points .*'pkg_a:Stage', 'pkg_b:Stage'"):
        registry.transform_class("twice")


def test_an_entry_point_cannot_replace_a_builtin(monkeypatch):
    _plugin_module(monkeypatch, "ds_test_plugin", PluginNoise=_PluginNoise)
    _install(monkeypatch, ("bicubic", "ds_test_plugin:PluginNoise"))
    assert registry.transform_class("bicubic").__module__ == "degrade_stream.degrade.bicubic"  # never loaded


def test_an_unknown_name_suggests_an_entry_point_name(monkeypatch):
    _install(monkeypatch, ("plugin_noise", "ds_test_plugin:PluginNoise"))
    with pytest.raises(ConfigError, match=r"unknown transform type 'plugin_nose' \(did you mean 'plugin_noise'\?\)"):
        registry.transform_class("plugin_nose")


def test_an_installed_package_declaring_the_entry_point_is_found_without_mocks(tmp_path, monkeypatch):
    """A real distribution on sys.path (a .dist-info folder, as pip leaves it) with a stage module."""
    (tmp_path / "ds_test_dist_stages.py").write_text(
        "import degrade_stream as ds\n\n\n"
        "class Halve(ds.Transform):\n"
        "    def apply(self, batch, params):\n"
        "        return batch * 0.5\n", encoding="utf-8")
    info = tmp_path / "ds_test_dist-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ds-test-dist\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[degrade_stream.stages]\nds_test_halve = ds_test_dist_stages:Halve\n",
                                          encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_TRANSFORMS", dict(registry._TRANSFORMS))
    monkeypatch.delitem(sys.modules, "ds_test_dist_stages", raising=False)
    chain = load_chain({"stages": [{"type": "ds_test_halve"}]})
    assert torch.equal(chain(torch.ones(1, 3, 2, 2), seed=0).lq, torch.full((1, 3, 2, 2), 0.5))
    assert registry.transform_class("ds_test_halve").__module__ == "ds_test_dist_stages"
    monkeypatch.delitem(sys.modules, "ds_test_dist_stages")


# --- the whole package: no circle, nothing above cli ---------------------------------------------------
PACKAGE = ROOT / "degrade_stream"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _arrows(path: Path, modules: set[str], source: str | None = None) -> set[str]:
    """The modules of ``modules`` that the module at ``path`` imports anywhere (functions and TYPE_CHECKING blocks
    included): ``from X import a`` gives X.a when that is a module of the package, else X."""
    text = path.read_text(encoding="utf-8") if source is None else source
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
    return {name for name in found if name in modules and name != _module_name(path)}


def _graph(extra: dict[Path, str] | None = None) -> dict[str, set[str]]:
    """module -> the package modules it imports; ``extra`` adds or replaces (path -> source) modules."""
    paths = {p: None for p in PACKAGE.rglob("*.py")}
    paths.update(extra or {})
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _arrows(p, modules, text) for p, text in paths.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _arrows_into_cli(graph: dict[str, set[str]]) -> list[str]:
    cli = "degrade_stream.cli"
    inside = lambda name: name == cli or name.startswith(cli + ".")  # noqa: E731
    return sorted(f"{m} imports {t}" for m, targets in graph.items() if not inside(m) for t in targets if inside(t))


def test_no_import_circle_in_the_package():
    graph = _graph()
    assert len(graph) > 100 and "degrade_stream.degrade.settings" in graph["degrade_stream.degrade.blur_kernels"]
    assert _circles(graph) == []


def test_no_library_module_imports_the_cli():
    assert _arrows_into_cli(_graph()) == []


@pytest.mark.slow
def test_the_graph_check_finds_a_circle_and_an_arrow_into_the_cli():
    """The issue's two cases, put back as they were: settings <-> blur_kernels (one side under TYPE_CHECKING) and
    calibrate importing a CLI helper lazily."""
    settings = PACKAGE / "degrade" / "settings.py"
    kernels = PACKAGE / "degrade" / "blur_kernels.py"
    back = settings.read_text(encoding="utf-8") + "\nfrom .blur_kernels import SINC\n"
    assert _circles(_graph({settings: back})) == [["degrade_stream.degrade.blur_kernels",
                                                   "degrade_stream.degrade.settings"]]
    assert kernels.exists()
    samples = PACKAGE / "calibrate" / "samples.py"
    lazy = samples.read_text(encoding="utf-8") + "\n\ndef f():\n    from ..cli import main\n"
    assert _arrows_into_cli(_graph({samples: lazy})) == ["degrade_stream.calibrate.samples imports "
                                                         "degrade_stream.cli.main"]
    typed = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from degrade_stream.cli.main import main\n"
    assert _arrows_into_cli(_graph({PACKAGE / "stream" / "_probe.py": typed})) == [
        "degrade_stream.stream._probe imports degrade_stream.cli.main"]
