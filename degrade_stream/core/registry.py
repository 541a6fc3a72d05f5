"""The transform registry: one explicit key per class, duplicates are an error (unlike BasicSR's).

core imports nothing above it. The package names the module that lists its built-in stages
(``builtins_from``, called by ``degrade_stream/__init__.py``); the registry imports it, by name, before its
first lookup, so the stages register when first needed and a bare ``import degrade_stream`` stays light.
A stage from another package registers through an entry point in the group ``degrade_stream.stages``
(``name = module:Class``), loaded by name the first time an unknown type is looked up, as pytest and setuptools
load plugins.
"""
from __future__ import annotations

from importlib import import_module, metadata
from typing import Callable, TypeVar

from .errors import ConfigError, closest, short_repr

T = TypeVar("T", bound=type)

#: the entry-point group in which other packages declare their stages
ENTRY_POINT_GROUP = "degrade_stream.stages"

_TRANSFORMS: dict[str, type] = {}
#: modules to import before the first lookup (the built-in stages), and what was registered by then
_BUILTIN_MODULES: list[str] = []
_BUILTINS: dict[str, type] = {}


def builtins_from(module: str) -> None:
    """Have the registry import ``module`` (by name) before its first lookup: a list of built-in stages."""
    if module not in _BUILTIN_MODULES:
        _BUILTIN_MODULES.append(module)


def _load_builtins() -> None:
    """Import the built-in stage modules not imported yet. What was registered by then stays registered, also
    when ``_TRANSFORMS`` is replaced later (tests swap it for a copy to leave nothing behind)."""
    while _BUILTIN_MODULES:
        module = _BUILTIN_MODULES.pop(0)  # before the import: a stage module may look a stage up on import
        try:
            import_module(module)
        except BaseException:
            _BUILTIN_MODULES.insert(0, module)
            raise
        _BUILTINS.update(_TRANSFORMS)
    for name, cls in _BUILTINS.items():
        _TRANSFORMS.setdefault(name, cls)


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make a Transform subclass loadable from YAML as ``type: name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a transform name must be a non-empty string, got {short_repr(name)}")

    def decorate(cls: T) -> T:
        if name in _TRANSFORMS and _TRANSFORMS[name] is not cls:
            other = _TRANSFORMS[name]
            raise ValueError(f"transform name '{name}' is already registered by {other.__module__}.{other.__qualname__}")
        _TRANSFORMS[name] = cls
        cls.type_name = name
        return cls

    return decorate


def transform_class(name: str, path: str = "type") -> type:
    """The class registered under ``name`` (or by its entry point); a ConfigError naming ``path`` if unknown."""
    _load_builtins()
    if isinstance(name, str) and name not in _TRANSFORMS:
        _load_entry_point(name, path)
    if not isinstance(name, str) or name not in _TRANSFORMS:
        choices = set(_TRANSFORMS) | set(_entry_points())
        raise ConfigError(path, f"unknown transform type {short_repr(name)}{closest(short_repr(name), choices)}")
    return _TRANSFORMS[name]


def registered_names() -> list[str]:
    """All transform names, sorted: those registered and those declared by an entry point (not loaded)."""
    _load_builtins()
    return sorted(set(_TRANSFORMS) | set(_entry_points()))


def _entry_points() -> dict[str, list[metadata.EntryPoint]]:
    """The entry points of ``degrade_stream.stages`` by name (several if two packages claim one name)."""
    found: dict[str, list[metadata.EntryPoint]] = {}
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if all(point.value != other.value for other in found.get(point.name, [])):
            found.setdefault(point.name, []).append(point)
    return found


def _load_entry_point(name: str, path: str) -> None:
    """Load the entry point named ``name``, if any; it registers itself or names the class to register."""
    points = _entry_points().get(name, [])
    if not points:
        return
    where = f"entry point '{name} = {points[0].value}' (group {ENTRY_POINT_GROUP})"
    if len(points) > 1:
        values = ", ".join(repr(p.value) for p in points)
        raise ConfigError(path, f"stage type {short_repr(name)} is declared by several entry points in group "
                                f"{ENTRY_POINT_GROUP}: {values}; uninstall all but one")
    try:
        loaded = points[0].load()
    except Exception as err:  # a plugin may fail in any way on import; say which one failed
        raise ConfigError(path, f"stage type {short_repr(name)}: the {where} failed to load: "
                                f"{type(err).__name__}: {err}") from err
    if name in _TRANSFORMS:  # the module's own @register(name) ran on import
        return
    from .transform import Transform  # within core
    if not (isinstance(loaded, type) and issubclass(loaded, Transform)):
        raise ConfigError(path, f"stage type {short_repr(name)}: the {where} gave {short_repr(loaded)}, which is not a "
                                f"Transform subclass and registered no stage named {short_repr(name)}")
    register(name)(loaded)
