"""The transform registry: one explicit key per class, duplicates are an error (unlike BasicSR's)."""
from __future__ import annotations

from typing import Callable, TypeVar

from .errors import ConfigError, closest

T = TypeVar("T", bound=type)

_TRANSFORMS: dict[str, type] = {}


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make a Transform subclass loadable from YAML as ``type: name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a transform name must be a non-empty string, got {name!r}")

    def decorate(cls: T) -> T:
        if name in _TRANSFORMS and _TRANSFORMS[name] is not cls:
            other = _TRANSFORMS[name]
            raise ValueError(f"transform name '{name}' is already registered by {other.__module__}.{other.__qualname__}")
        _TRANSFORMS[name] = cls
        cls.type_name = name
        return cls

    return decorate


def transform_class(name: str, path: str = "type") -> type:
    """The class registered under ``name``; a ConfigError naming ``path`` and the closest name if unknown."""
    _load_builtins()
    if not isinstance(name, str) or name not in _TRANSFORMS:
        raise ConfigError(path, f"unknown transform type {name!r}{closest(str(name), _TRANSFORMS)}")
    return _TRANSFORMS[name]


def registered_names() -> list[str]:
    """All registered transform names, sorted."""
    _load_builtins()
    return sorted(_TRANSFORMS)


def _load_builtins() -> None:
    """Import the built-in transform modules so their @register decorators run."""
    from .. import transforms  # noqa: F401  (side effect: registration)
