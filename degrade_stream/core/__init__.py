"""Core protocol: Transform, Chain, registry, YAML configuration, per-sample seeding.

The names below load on first use (PEP 562), so importing ``degrade_stream.core.registry`` or ``.errors``
alone loads no torch."""
from importlib import import_module as _import_module
from typing import TYPE_CHECKING

#: public name -> the module of core that defines it
_EXPORTS = {"Chain": "chain", "ChainResult": "chain", "load_chain": "config", "named_configs": "config",
            "save_chain": "config", "ConfigError": "errors", "SampleRandom": "random", "as_seed_tensor": "random",
            "derive_seeds": "random", "register": "registry", "registered_names": "registry", "Params": "transform",
            "Transform": "transform", "TransformResult": "transform"}

__all__ = [
    "Chain", "ChainResult", "ConfigError", "Params", "SampleRandom", "Transform", "TransformResult",
    "as_seed_tensor", "derive_seeds", "load_chain", "named_configs", "register", "registered_names", "save_chain",
]


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .chain import Chain, ChainResult
    from .config import load_chain, named_configs, save_chain
    from .errors import ConfigError
    from .random import SampleRandom, as_seed_tensor, derive_seeds
    from .registry import register, registered_names
    from .transform import Params, Transform, TransformResult
