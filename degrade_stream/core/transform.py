"""The Transform protocol: draw every random choice per sample, then apply deterministically.

Modelled on torchvision.transforms.v2 (``make_params``/``transform``) and kornia's
``_param_generator``/``apply_transform``: parameters are returned, never stored on ``self``, so a
batch can be replayed exactly, logged, or used as a cache key.
"""
from __future__ import annotations

import functools
import inspect
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from .errors import ConfigError, closest, short_repr
from .finite import check_finite_output
from .params_check import check_stage_params
from .random import SampleRandom, as_seed_tensor
from .validate import Rule, check_rules, check_value, type_hints

Params = dict[str, Any]  # name -> (B, ...) tensor, or a nested Params


@dataclass
class TransformResult:
    """What a transform call returns: the output batch and the per-sample params that made it."""

    output: Tensor
    params: Params

    def __iter__(self):  # allows ``out, params = transform(x, seed=0)``
        return iter((self.output, self.params))


class Transform:
    """Base class of every stage.

    Subclasses declare their configuration as typed keyword arguments of ``__init__`` (validated
    and recorded automatically, so ``to_config`` and YAML round-trips need no extra code), and
    implement ``sample_params`` and ``apply``.
    """

    type_name: ClassVar[str] = ""
    #: Spatial down-scaling factor of this stage (output = input / scale); 1 for size-preserving.
    scale: int = 1
    #: The smallest input height and width (each) this stage accepts on its own; a stage that refuses small
    #: inputs states its bound (a class attribute or a property), and ``Chain.min_input_side`` combines them.
    min_input_side: int = 1
    #: Checks that span several arguments (core/validate.py ``Rule``), run after each argument's own check.
    rules: ClassVar[tuple[Rule, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording_init(cls.__init__)  # type: ignore[method-assign]

    # --- the protocol -------------------------------------------------------------------------
    def sample_params(self, batch: Tensor, seeds: Tensor) -> Params:
        """Draw every random choice for the batch as (B, ...) tensors from per-sample ``seeds``."""
        return {}

    def apply(self, batch: Tensor, params: Params) -> Tensor:
        """Apply the transform with the given params; deterministic."""
        raise NotImplementedError(f"{type(self).__name__}.apply")

    def __call__(self, batch: Tensor, seed: int | Tensor | None = None, params: Params | None = None) -> TransformResult:
        """Sample params from ``seed`` (or reuse ``params``) and apply them; float16/bfloat16 input is
        computed in float32 and returned in its dtype, as ``Chain`` does."""
        if batch.dtype in (torch.float16, torch.bfloat16):
            out, params = self(batch.float(), seed=seed, params=params)
            return TransformResult(out.to(batch.dtype), params)
        seeds = None
        if params is None:
            seeds = as_seed_tensor(seed, batch.shape[0])
            params = self.sample_params(batch, seeds)
        else:
            self.check_params(batch, params, "params")
        out = check_finite_output(self.apply(batch, params), f"the stage {self.type_name!r}", seeds, batch)
        return TransformResult(out, params)

    def check_params(self, batch: Tensor, params: Params, where: str) -> None:
        """Refuse replay ``params`` that ``sample_params`` could not have drawn for ``batch``: other keys,
        shapes or dtype kinds, NaN or huge floats (core/params_check.py). A stage whose params' structure
        varies from draw to draw overrides this."""
        check_stage_params(self, batch, params, where)

    # --- helpers for subclasses ---------------------------------------------------------------
    @staticmethod
    def random(seeds: Tensor, batch: Tensor) -> SampleRandom:
        """A per-sample generator on the batch's device."""
        return SampleRandom(seeds, device=batch.device)

    # --- configuration ------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        """``{"type": name, **arguments}``: enough to rebuild an identical transform."""
        return {"type": self.type_name, **_plain(getattr(self, "_config", {}))}

    @classmethod
    def from_config(cls, config: dict[str, Any], path: str = "") -> "Transform":
        """Build from a config dict (without ``type``), raising ConfigError with ``path`` prefixed."""
        allowed = _init_arguments(cls)
        for key in config:
            if key not in allowed:
                name = key[:80] if isinstance(key, str) else short_repr(key)
                raise ConfigError(_join(path, name), f"unknown argument {short_repr(key)} for "
                                                     f"'{cls.type_name}'{closest(name, allowed)}")
        try:
            return cls(**config)
        except ConfigError as err:
            raise err.under(path) if path else err

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in getattr(self, "_config", {}).items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def __eq__(self, other: object) -> bool:
        """Equal when of the same type with the same configuration (``to_config``)."""
        return type(self) is type(other) and self.to_config() == other.to_config()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        """A hash of the type and the configuration, so equal transforms hash equal (Python's data model)."""
        return hash((type(self), json.dumps(self.to_config(), sort_keys=True, default=repr)))


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _init_arguments(cls: type) -> list[str]:
    sig = inspect.signature(cls.__init__)
    return [n for n, p in sig.parameters.items() if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _recording_init(init: Any) -> Any:
    """Wrap ``__init__`` to check arguments against their annotations and the class's ``rules`` (core/validate.py),
    the one place a stage's arguments are checked, and record them for to_config."""
    sig = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self: Transform, *args: Any, **kwargs: Any) -> None:
        if "_config" not in self.__dict__:  # the most-derived __init__ records
            try:
                bound = sig.bind(self, *args, **kwargs)
            except TypeError as err:
                raise ConfigError("", f"{type(self).__name__}: {err}") from None
            bound.apply_defaults()
            hints = type_hints(init)
            config = {}
            for name, value in list(bound.arguments.items())[1:]:
                value = check_value(name, value, hints.get(name))
                bound.arguments[name] = value
                config[name] = value
            check_rules(type(self), config)
            self._config = config
            args, kwargs = bound.args[1:], bound.kwargs
        init(self, *args, **kwargs)

    return wrapper


def _plain(value: Any) -> Any:
    """Config values as YAML-safe plain types (tuples become lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return value
