"""``options: FILE`` in a chain YAML: a stage built from a reference's training-option file.

A stage class that inherits ``FromOptionFile`` (before ``Transform``) accepts ``options`` beside its own
arguments: the file's degradation keys are translated by the matching ``OptionMapping`` and the stage's other
arguments in the YAML override them. The chain then holds the explicit arguments (``to_config`` writes them, not
the path), so a saved chain does not depend on the file any more.
"""
from __future__ import annotations

from typing import Any

from ..core.errors import ConfigError


class FromOptionFile:
    """Mixin: ``from_config`` expands an ``options`` path (a Real-ESRGAN / BasicSR options YAML) into arguments."""

    type_name: str

    @classmethod
    def from_config(cls, config: dict[str, Any], path: str = "") -> Any:
        if "options" in config:
            from . import stage_from_options  # the package discovers the mappings

            where = f"{path}.options" if path else "options"
            try:
                stage = stage_from_options(config["options"], stage=cls.type_name)
            except ConfigError as err:
                raise ConfigError(where, f"{config['options']}: {err}") from None
            stage.pop("type")
            config = {**stage, **{k: v for k, v in config.items() if k != "options"}}
        return super().from_config(config, path)  # type: ignore[misc]
