"""One validation system: config values checked against their type annotations.

Both ``Transform.__init__`` signatures (core/transform.py) and config dataclasses such as
``TrainConfig`` (diffusion/train_config.py) are validated here, so a key is checked the same way
wherever it is declared. A field states its constraints in its annotation:

- ``bool``, ``int``, ``float``, ``str``: the type (NaN and infinities are refused for numbers);
- ``Literal["a", "b"]``: one of the choices (a typo gets the closest suggestion);
- ``tuple[X, Y]`` / ``tuple[X, ...]``: a list of that many elements, each checked as ``name[i]``;
- ``X | None``: None, or an X;
- ``Annotated[X, Bounds(low=..., high=..., below=...)]``: a number within the bounds;
- ``Annotated[tuple[X, X], Range(low=..., high=...)]``: a [low, high] pair, each end within the bounds, low <= high;
- ``Annotated[str, Choice(names)]``: a string, one of ``names`` (as ``Literal``, after the type check);
- ``Annotated[float, Probability()]``: a probability in [0, 1];
- ``Annotated[tuple[float, ...], Weights(n)]``: n non-negative weights in [0, 1], not all zero;
- ``Annotated[X, Odd()]``: an odd integer, or a pair of odd integers;
- ``Annotated[tuple[X, ...], Length(low, high)]``: a list of low to high elements (checked before the elements);
- ``Annotated[X, Parser(build)]``: a nested value built by ``build(value, name)``;
- ``Seed``: any integer, reduced modulo 2**64 (the seed domain, ``core/seed_domain.py``).

The markers of one annotation apply in order, after the type. A rule that spans several fields (a stage's
``t_per_step`` that needs ``sampler: ddim``) is declared once, in the class's ``rules`` (``check_rules``): each
rule gets the checked values by name and raises a ConfigError naming the key. ``Transform`` runs both on every
``__init__`` (core/transform.py), config dataclasses through ``check_fields`` (a mapping) or ``check_dataclass``
(an instance, from ``__post_init__``); nothing checks an argument again.

Every error is a ConfigError whose key is the argument or field name (``adam_betas[1]``).
"""
from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal, Mapping

from .checks import check_choice, check_int, check_number, check_prob, check_probs, check_range
from .errors import ConfigError, closest, short_repr
from .seed_domain import SeedError, canonical_seed


@dataclass(frozen=True)
class Bounds:
    """Limits of a number: ``low <= value <= high`` and ``value < below`` (each optional)."""

    low: float | None = None
    high: float | None = None
    below: float | None = None


@dataclass(frozen=True)
class Range:
    """A [low, high] pair: each end within ``[low, high]`` of the marker (named ``key[0]``, ``key[1]``), and the
    pair's low <= its high; the ends are integers when the tuple's elements are ``int``."""

    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Choice:
    """One of ``names`` (a typo gets the closest suggestion)."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Probability:
    """A probability: a number in [0, 1]."""


@dataclass(frozen=True)
class Weights:
    """``length`` weights (any length when None), each a probability, not all zero (normalised by the user)."""

    length: int | None = None


@dataclass(frozen=True)
class Odd:
    """An odd integer, or a pair of them; ``noun`` starts the message (``kernel sizes must be odd``)."""

    noun: str = ""


@dataclass(frozen=True)
class Length:
    """A list of ``low`` to ``high`` elements (each bound optional)."""

    low: int | None = None
    high: int | None = None


#: A rule over several fields: gets the checked values by name, raises ConfigError naming the key.
Rule = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class Parser:
    """Builds a nested value (a sub-config) from its raw config value and its key."""

    build: Callable[[Any, str], Any]


def seed_value(value: Any, name: str) -> int:
    """A ``seed`` option: any integer, reduced modulo 2**64 (``core/seed_domain.py``); ConfigError naming it."""
    try:
        return canonical_seed(value, name)
    except SeedError as err:
        raise ConfigError(name, err.problem) from None


#: The annotation of a seed field: the project's one seed domain.
Seed = Annotated[int, Parser(seed_value)]


@functools.lru_cache(maxsize=None)
def type_hints(obj: Any) -> dict[str, Any]:
    """The resolved annotations of a class or function, ``Annotated`` extras kept; {} if unresolvable."""
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception:  # unresolved forward references: skip automatic checks
        return {}


def check_value(name: str, value: Any, hint: Any) -> Any:
    """``value`` checked against the annotation ``hint``; lists become tuples for tuple hints."""
    if hint is None or hint is Any:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _check_annotated(name, value, args[0], hint.__metadata__)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        rest = [a for a in args if a is not type(None)]
        return check_value(name, value, rest[0]) if len(rest) == 1 else value
    if origin is Literal:
        return check_choice(name, value, args)
    if origin is tuple:
        return _check_tuple(name, value, args)
    return _check_scalar(name, value, hint)


def check_keys(cls: type, data: Any, what: str, keys: tuple[str, ...] | None = None, noun: str = "key") -> None:
    """``data`` is a mapping whose keys are fields of dataclass ``cls`` (or ``keys``, the ones a file may set); an
    unknown one is named with the closest valid one. ``what`` names the mapping, ``noun`` a key, in the errors."""
    if not isinstance(data, Mapping):
        raise ConfigError("", f"{what} must be a mapping, got {type(data).__name__}")
    names = list(keys) if keys is not None else [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            name = key[:80] if isinstance(key, str) else short_repr(key)
            raise ConfigError(name, f"unknown {noun}{closest(name, names)}; expected one of {names}")


def check_fields(cls: type, data: Any, what: str, keys: tuple[str, ...] | None = None,
                 noun: str = "key") -> dict[str, Any]:
    """The keyword arguments for dataclass ``cls`` from the mapping ``data`` (``check_keys``), each checked
    against its field's annotation, then the class's ``rules`` on them and the defaults of the others."""
    check_keys(cls, data, what, keys, noun)
    names = [f.name for f in dataclasses.fields(cls)]
    hints = type_hints(cls)
    values = {key: check_value(key, data[key], hints.get(key)) for key in names if key in data}
    if getattr(cls, "rules", ()):
        defaults = {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
                    for f in dataclasses.fields(cls)
                    if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING}
        check_rules(cls, {**defaults, **values})
    return values


def check_dataclass(obj: Any) -> None:
    """Check every field of the dataclass instance ``obj`` against its annotation, then its class's ``rules``;
    for ``__post_init__``. Checked values are stored back (lists become tuples), frozen or not."""
    hints = type_hints(type(obj))
    values = {}
    for f in dataclasses.fields(obj):
        value = check_value(f.name, getattr(obj, f.name), hints.get(f.name))
        object.__setattr__(obj, f.name, value)
        values[f.name] = value
    check_rules(type(obj), values)


def check_rules(cls: type, values: Mapping[str, Any]) -> None:
    """The rules of ``cls`` that span several fields (its ``rules``), on the checked ``values``."""
    for rule in getattr(cls, "rules", ()):
        rule(values)


def check_field(cls: type, name: str, value: Any) -> Any:
    """One field of dataclass ``cls`` checked against its annotation (for ``replace``-style updates)."""
    return check_value(name, value, type_hints(cls).get(name))


def _check_annotated(name: str, value: Any, base: Any, extras: tuple[Any, ...]) -> Any:
    for extra in extras:
        if isinstance(extra, Length) and isinstance(value, (list, tuple)):
            _check_length(name, value, extra)
    for extra in extras:
        if isinstance(extra, Parser):
            try:
                return extra.build(value, name)
            except ConfigError:
                raise
            except (ValueError, TypeError) as err:  # the builder's message already names the key
                raise ConfigError("", str(err)) from None
    bounds = [extra for extra in extras if isinstance(extra, Bounds)]
    if not (bounds and base in (int, float)):  # a number with Bounds is checked by them (its own limits)
        value = check_value(name, value, base)
    for extra in extras:
        if isinstance(extra, Bounds):
            value = _check_bounds(name, value, base, extra)
        elif isinstance(extra, Range):
            integer = typing.get_args(base)[:1] == (int,)
            value = check_range(name, value, extra.low, extra.high, integer=integer)
        elif isinstance(extra, Choice):
            value = check_choice(name, value, extra.names)
        elif isinstance(extra, Probability):
            value = check_prob(name, value)
        elif isinstance(extra, Weights):
            value = check_probs(name, value, extra.length)
        elif isinstance(extra, Odd):
            _check_odd(name, value, extra)
    return value


def _check_length(name: str, value: list | tuple, length: Length) -> None:
    if length.high is not None and len(value) > length.high:
        raise ConfigError(name, f"expected a list of at most {length.high} values, got {short_repr(value)}")
    if length.low is not None and len(value) < length.low:
        raise ConfigError(name, f"expected a list of at least {length.low} values, got {short_repr(value)}")


def _check_odd(name: str, value: Any, odd: Odd) -> None:
    ends = value if isinstance(value, tuple) else (value,)
    if any(v % 2 == 0 for v in ends):
        shown = list(value) if isinstance(value, tuple) else value
        raise ConfigError(name, f"{odd.noun + ' ' if odd.noun else ''}must be odd, got {shown}")


def _check_bounds(name: str, value: Any, base: Any, bounds: Bounds) -> Any:
    check = check_int if base is int else check_number
    value = check(name, value, bounds.low, bounds.high)
    if bounds.below is not None and value >= bounds.below:
        raise ConfigError(name, f"must be < {bounds.below}, got {value}")
    return value


def _check_tuple(name: str, value: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(name, f"expected a list, got {type(value).__name__} {short_repr(value)}")
    if args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise ConfigError(name, f"expected a list of {len(args)} values, got {short_repr(value)}")
        return tuple(check_value(f"{name}[{i}]", v, a) for i, (v, a) in enumerate(zip(value, args)))
    if args:
        return tuple(check_value(f"{name}[{i}]", v, args[0]) for i, v in enumerate(value))
    return tuple(value)


def _check_scalar(name: str, value: Any, hint: Any) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(name, f"expected true/false, got {type(value).__name__} {short_repr(value)}")
        return value
    if hint is int:
        return check_int(name, value)
    if hint is float:
        return check_number(name, value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(name, f"expected a string, got {type(value).__name__} {short_repr(value)}")
        return value
    return value
