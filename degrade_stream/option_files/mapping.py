"""How one reference's training-option files map onto a degradation stage: ``OptionMapping``.

A reference (Real-ESRGAN, GFPGAN, ...) keeps its degradation settings as keys of a BasicSR-style options YAML,
some at the top level and some under ``datasets.train``. A mapping names those places (``sections``), the keys it
reads there (``known``), the keys that may sit beside them without concerning the degradation (``ignored``:
network, optimiser, loader settings) and a ``translate`` function from the keys to the stage's arguments. Every
other key in those sections is an error that names it and the closest known key, so a typo never passes unseen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..core.errors import ConfigError, closest


@dataclass(frozen=True)
class OptionMapping:
    """One reference's option keys -> one stage's arguments.

    ``reference``: the name users pass (``--reference``); ``stage``: the stage type it builds; ``source``: the
    reference's repository and option file, for messages; ``sections``: dotted paths holding degradation keys
    (``""`` = the top level), read in order when present; ``translate``: collected keys -> stage arguments,
    raising ConfigError(key, ...) for a bad value; ``detect``: whether a parsed options file is this reference's.
    """

    reference: str
    stage: str
    source: str
    sections: tuple[str, ...]
    known: frozenset[str]
    ignored: frozenset[str]
    translate: Callable[[Mapping[str, Any]], dict[str, Any]]
    detect: Callable[[Mapping[str, Any]], bool] = field(default=lambda options: False)

    def collect(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The known keys of every present section (a later section's key wins); an unknown key is a ConfigError
        naming its dotted path and the closest known key."""
        found: dict[str, Any] = {}
        for section in self.sections:
            block = section_of(options, section)
            if block is None:
                continue
            allowed = self.known | self.ignored | ({"datasets"} if section == "" else frozenset())
            for key, value in block.items():
                path = f"{section}.{key}" if section else str(key)
                if key not in allowed:
                    raise ConfigError(path, f"unknown option key {key!r} for {self.reference} option files "
                                            f"({self.source}){closest(str(key), sorted(self.known))}")
                if key in self.known:
                    found[key] = value
        return found

    def stage_config(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``{"type": stage, **arguments}`` from a parsed options file."""
        return {"type": self.stage, **self.translate(self.collect(options))}


def section_of(options: Mapping[str, Any], section: str) -> Mapping[str, Any] | None:
    """The mapping at dotted ``section`` (``""``: ``options`` itself), or None when absent; ConfigError when the
    path holds something other than a mapping."""
    block: Any = options
    for part in [p for p in section.split(".") if p]:
        if not isinstance(block, Mapping) or part not in block:
            return None
        block = block[part]
    if not isinstance(block, Mapping):
        raise ConfigError(section, f"expected a mapping of option keys, got {type(block).__name__}")
    return block
