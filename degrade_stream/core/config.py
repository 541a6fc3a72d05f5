"""YAML chains: load by name, path or dict; save; validate with errors that name the YAML path."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..atomic import write_text_atomic
from .chain import Chain
from .errors import ConfigError, closest, short_repr, truncate
from .registry import transform_class
from .resources import configs_root
from .transform import Transform
from .yaml_limits import MAX_BYTES, YAMLLimitError, load_bounded_yaml

CHAIN_KEYS = ("name", "description", "stages")


def named_configs(kind: str = "chains") -> dict[str, Path]:
    """Shipped configs of one kind ('chains' or 'ddpm'), name -> file."""
    folder = configs_root() / kind
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def read_yaml(path: str | os.PathLike) -> Any:
    """``yaml.safe_load`` a file, with the file named in any error."""
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_BYTES:  # refused before reading it
            raise YAMLLimitError(f"{path}: {path.stat().st_size} bytes, over the {MAX_BYTES} a config may have")
        with open(path, encoding="utf-8") as f:
            return load_bounded_yaml(f.read(MAX_BYTES + 1), str(path))
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path} is a folder; expected a YAML config file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a YAML config file (not UTF-8 text)") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: invalid YAML: {truncate(str(err), 400)}") from None


def resolve_config(spec: str | os.PathLike | Mapping[str, Any], kind: str = "chains") -> dict[str, Any]:
    """A config dict from a shipped name, a YAML path, or a dict (copied)."""
    if isinstance(spec, Mapping):
        return dict(spec)
    text = os.fspath(spec)
    shipped = named_configs(kind)
    if text in shipped:
        data = read_yaml(shipped[text])
    elif text.endswith((".yaml", ".yml")) or os.sep in text or Path(text).exists():
        data = read_yaml(text)
        if data is None:
            raise ValueError(f"{text}: the config file is empty")
    else:
        raise ValueError(f"unknown config name {short_repr(text)}{closest(text[:200], shipped)}; "
                         f"shipped {kind} configs: {', '.join(shipped)}; or pass a path to a YAML file")
    if not isinstance(data, dict):
        raise ValueError(f"{text}: a config must be a YAML mapping, got {type(data).__name__}")
    return data


def load_chain(spec: str | os.PathLike | Mapping[str, Any] | Chain, device: Any = None) -> Chain:
    """Build a Chain from a shipped config name, a YAML path or a dict (e.g. ``chain.to_config()``)."""
    if isinstance(spec, Chain):
        chain = spec
    else:
        chain = chain_from_dict(resolve_config(spec, "chains"))
    if device is not None:
        chain.to(device)
    return chain


def chain_from_dict(config: Mapping[str, Any]) -> Chain:
    """Validate a chain config dict and build it; errors name the YAML path of the bad key."""
    for key in config:
        if key not in CHAIN_KEYS:
            name = key[:80] if isinstance(key, str) else short_repr(key)
            raise ConfigError(name, f"unknown top-level key {short_repr(key)}{closest(name, CHAIN_KEYS)}")
    stages = config.get("stages")
    if not isinstance(stages, list) or not stages:
        raise ConfigError("stages", "expected a non-empty list of stages, each a mapping with a 'type'")
    built: list[Transform] = []
    for i, stage in enumerate(stages):
        path = f"stages[{i}]"
        if not isinstance(stage, Mapping):
            raise ConfigError(path, f"expected a mapping with a 'type' key, got {short_repr(stage)}")
        if "type" not in stage:
            raise ConfigError(f"{path}.type", "missing; every stage needs a 'type'")
        cls = transform_class(stage["type"], f"{path}.type")
        args = {k: v for k, v in stage.items() if k != "type"}
        built.append(cls.from_config(args, path))
    for key in ("name", "description"):
        if key in config and not isinstance(config[key], str):
            raise ConfigError(key, f"expected a string, got {short_repr(config[key])}")
    return Chain(built, name=config.get("name", ""), description=config.get("description", ""))


def save_chain(chain: Chain, path: str | os.PathLike) -> Path:
    """Write ``chain.to_config()`` as YAML, atomically (temp file + rename)."""
    return write_text_atomic(path, yaml.safe_dump(chain.to_config(), sort_keys=False))
