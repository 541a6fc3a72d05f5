"""The configuration error type: a ValueError that names the YAML path of the bad key; short views of values.

An error echoes at most a short, truncated view of a bad value (``short_repr``): a value built from YAML
aliases or shared references can expand to gigabytes when printed in full (issue 23 item 9).
"""
from __future__ import annotations

import difflib
import reprlib
from typing import Any, Iterable

#: The longest message a ConfigError keeps, and the longest view of a value inside one.
MESSAGE_LIMIT = 2000
VALUE_LIMIT = 80

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 3, 6, 6, 4
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = VALUE_LIMIT, VALUE_LIMIT, 40


def short_repr(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A bounded view of ``value`` for an error message: nesting, element counts and length are capped
    (reprlib), so a huge or self-referencing value costs no more than a short string."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a value whose __repr__ fails must not turn an error into another one
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def truncate(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


class ConfigError(ValueError):
    """A bad configuration value. ``path`` is the YAML path of the key, e.g. ``stages[2].noise_range``."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = truncate(path, VALUE_LIMIT * 4)
        self.problem = truncate(problem)
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)

    def under(self, prefix: str) -> "ConfigError":
        """The same error with ``prefix`` prepended to its path."""
        path = f"{prefix}.{self.path}" if self.path and not self.path.startswith("[") else f"{prefix}{self.path}"
        return ConfigError(path, self.problem)


def closest(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest valid name, or '' if none is close."""
    match = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""
