"""degrade_stream: realistic (HQ, LQ) training pairs, streamed from any DataLoader.

Handcrafted degradation, then refinement by a DDPM trained on real low-quality images
(Yang, Ren, Xie, Zhang 2023, "Synthesizing Realistic Image Restoration Training Pairs:
A Diffusion Approach").

Importing the package loads no torch: the names below load on first use (PEP 562), and the built-in
stages register the first time the registry looks a stage up (the modules listed in ``registered_stages.py``).
"""
from importlib import import_module as _import_module
from pathlib import Path as _Path
from typing import TYPE_CHECKING

from . import source_checkout as _source_checkout

_source_checkout.install(_Path(__file__).resolve().parent)  # plugins/ and configs/ of a checkout, as setup.py maps them

from .core import registry as _registry  # noqa: E402  (light: no torch)

_registry.builtins_from(f"{__name__}.registered_stages")  # the one place the built-in stages are listed

__version__ = "0.1.0"

#: public name -> the subpackage it comes from
_EXPORTS = {**{name: "core" for name in (
    "Chain", "ChainResult", "ConfigError", "Params", "SampleRandom", "Transform", "TransformResult", "as_seed_tensor",
    "derive_seeds", "load_chain", "named_configs", "register", "registered_names", "save_chain")},
    "PairCache": "stream", "PairStream": "stream"}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> object:
    """A public name, or a submodule (``ds.stream``), imported on first use."""
    if name in _EXPORTS:
        value = getattr(_import_module(f".{_EXPORTS[name]}", __name__), name)
    elif not name.startswith("_") and (_Path(__file__).parent / name).with_suffix(".py").is_file() \
            or (_Path(__file__).parent / name / "__init__.py").is_file():
        value = _import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .core import (Chain, ChainResult, ConfigError, Params, SampleRandom, Transform, TransformResult,
                       as_seed_tensor, derive_seeds, load_chain, named_configs, register, registered_names,
                       save_chain)
    from .stream import PairCache, PairStream
