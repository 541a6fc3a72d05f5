"""Reference training-option files read as they are: Real-ESRGAN / BasicSR options YAML -> a degradation chain.

One file per reference defines ``MAPPING`` (an ``OptionMapping``, mapping.py); this package finds them all. Use:
``stage_from_options(path)`` / ``chain_from_options(path)`` (the reference is detected from the file, or named),
``options: path`` in a chain YAML (stages inheriting ``stage_option.FromOptionFile``), or ``degrade-stream import-options``.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..core.errors import ConfigError, closest
from .mapping import OptionMapping, section_of


def _discover() -> dict[str, OptionMapping]:
    found: dict[str, OptionMapping] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        mapping = getattr(module, "MAPPING", None)
        if isinstance(mapping, OptionMapping):
            if mapping.reference in found:
                raise RuntimeError(f"two option mappings are named {mapping.reference!r}")
            found[mapping.reference] = mapping
    return found


MAPPINGS: dict[str, OptionMapping] = _discover()


def read_options(source: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """A parsed options file (``yaml.safe_load``), or a copy of a mapping; errors name the file."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source).expanduser()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError("", f"cannot read the options file {path}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise ConfigError("", f"{path}: invalid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError("", f"{path}: an options file must be a YAML mapping, got {type(data).__name__}")
    return data


def find_mapping(options: Mapping[str, Any], reference: str | None = None, stage: str | None = None) -> OptionMapping:
    """The mapping named ``reference``; else the one that recognises the file (among those building ``stage``)."""
    if reference is not None:
        if reference not in MAPPINGS:
            raise ConfigError("reference", f"unknown reference {reference!r}{closest(reference, MAPPINGS)}; "
                                           f"known: {', '.join(sorted(MAPPINGS))}")
        return MAPPINGS[reference]
    candidates = [m for m in MAPPINGS.values() if stage is None or m.stage == stage]
    matches = [m for m in candidates if m.detect(options)]
    if len(matches) == 1:
        return matches[0]
    if not matches and len(candidates) == 1:
        return candidates[0]
    names = ", ".join(sorted(m.reference for m in (matches or candidates)))
    raise ConfigError("reference", f"cannot tell which reference's option file this is; name one of: {names}")


def stage_from_options(source: str | os.PathLike | Mapping[str, Any], reference: str | None = None,
                       stage: str | None = None) -> dict[str, Any]:
    """The stage config (``{"type": ..., **arguments}``) that a reference's options file describes."""
    options = read_options(source)
    return find_mapping(options, reference, stage).stage_config(options)


def chain_from_options(source: str | os.PathLike | Mapping[str, Any], reference: str | None = None,
                       name: str | None = None) -> dict[str, Any]:
    """A chain config of one stage from an options file, named after it, its description naming the source."""
    options = read_options(source)
    mapping = find_mapping(options, reference)
    label = name or (Path(source).stem if not isinstance(source, Mapping) else mapping.reference)
    origin = f"{source}" if not isinstance(source, Mapping) else "an options mapping"
    return {"name": label,
            "description": f"{mapping.reference} degradation read from {origin} ({mapping.source})",
            "stages": [mapping.stage_config(options)]}


__all__ = ["MAPPINGS", "OptionMapping", "chain_from_options", "find_mapping", "read_options",
           "section_of", "stage_from_options"]
