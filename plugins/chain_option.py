"""Chains named by a trainer's option: loaded with errors that name the option, scale checked.

Shared by the BasicSR and mmagic adapters, so both report a bad ``degrade_stream`` option or a
``scale`` that does not match the chain the same way, at dataset/model construction.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from degrade_stream.core import Chain, ConfigError, load_chain, named_configs


def chain_from_option(spec: str | os.PathLike | Mapping[str, Any] | None, option: str) -> Chain:
    """``load_chain(spec)``; a missing or bad value is a ConfigError whose path is ``option``."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        raise ConfigError(option, "missing: give a shipped chain name "
                                  f"({', '.join(named_configs('chains'))}) or the path of a chain YAML file")
    if not isinstance(spec, (str, os.PathLike, Mapping)):
        raise ConfigError(option, f"expected a chain name, a YAML path or a mapping, got {type(spec).__name__} {spec!r}")
    try:
        return load_chain(spec)
    except ConfigError as err:
        raise err.under(option) from None
    except (ValueError, FileNotFoundError) as err:
        raise ConfigError(option, str(err)) from None


def check_scale(chain: Chain, scale: Any, option: str = "scale") -> int:
    """The chain's scale; a ConfigError naming ``option`` if ``scale`` is given and differs (GT = scale x LQ)."""
    if scale is None:
        return chain.scale
    if isinstance(scale, bool) or not isinstance(scale, int):
        raise ConfigError(option, f"expected an integer, got {type(scale).__name__} {scale!r}")
    if scale != chain.scale:
        label = f" '{chain.name}'" if chain.name else ""
        raise ConfigError(option, f"{scale} does not match the scale {chain.scale} of the degrade_stream chain{label} "
                                  "(GT = scale x LQ): set the option to the chain's scale or pick a chain with this scale")
    return scale
