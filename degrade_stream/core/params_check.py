"""Checks of params given for replay (``chain(hq, params=...)``, ``stage(batch, params=...)``): issue 23 item 8.

Params from another chain once failed with ``KeyError: 'blur1'``, and NaN or 1e30 in a param gave a NaN LQ.
A stage's params are compared with what its own ``sample_params`` draws for the same batch (any seeds: the
structure does not depend on them): the same keys, nesting, shapes and kinds of dtype (float, integer,
bool), every float finite and within the project's bound on numbers (``checks.LIMIT``). Errors name the
stage and the path of the param, e.g. ``params[0]['noise1']['sigma']``.
"""
from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence

import torch
from torch import Tensor

from .checks import LIMIT
from .errors import short_repr


class Stage(Protocol):
    """What the checks use of a stage (a ``Transform``, which imports this module)."""

    type_name: str

    def sample_params(self, batch: Tensor, seeds: Tensor) -> Any: ...


def check_params_list(params: Any, stages: Sequence[Stage]) -> list[Any]:
    """``params`` as a list with one entry per stage; a clear error for anything else."""
    if isinstance(params, Mapping) or not isinstance(params, (list, tuple)):
        raise ValueError(f"params must be a list with one dict per stage (ChainResult.params), got "
                         f"{type(params).__name__}")
    if len(params) != len(stages):
        raise ValueError(f"params has {len(params)} stage entries but the chain has {len(stages)} stages "
                         f"({', '.join(s.type_name for s in stages)}): are they another chain's params?")
    return list(params)


def check_stage_params(stage: Stage, batch: Tensor, params: Any, where: str) -> None:
    """Compare ``params`` with the structure ``stage.sample_params`` gives for ``batch``; ValueError naming
    ``where`` (e.g. ``params[2]``) and the stage on any difference."""
    label = f"{where} (stage {stage.type_name!r})"
    if not isinstance(params, Mapping):
        raise ValueError(f"{label}: expected a dict of per-sample tensors, got {type(params).__name__}")
    seeds = torch.zeros(batch.shape[0], dtype=torch.int64)
    reference = stage.sample_params(batch, seeds)
    _compare(reference, params, label, "")


def _compare(ref: Any, got: Any, label: str, path: str) -> None:
    here = f"{label}{path}"
    if isinstance(ref, Tensor):
        _compare_tensor(ref, got, here)
    elif isinstance(ref, Mapping):
        if not isinstance(got, Mapping):
            raise ValueError(f"{here}: expected a dict with keys {sorted(ref)}, got {type(got).__name__}")
        missing = [k for k in ref if k not in got]
        extra = [k for k in got if k not in ref]
        if missing or extra:
            parts = ([f"missing {short_repr(missing)}"] if missing else []) + \
                    ([f"unexpected {short_repr(extra)}"] if extra else [])
            raise ValueError(f"{here}: {', '.join(parts)}; expected the keys {sorted(ref)} (params of another "
                             "chain or stage?)")
        for key in ref:
            _compare(ref[key], got[key], label, f"{path}[{key!r}]")
    elif isinstance(ref, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(ref):
            raise ValueError(f"{here}: expected a list of {len(ref)} entries, got {short_repr(got)}")
        for i, (r, g) in enumerate(zip(ref, got)):
            _compare(r, g, label, f"{path}[{i}]")


def _kind(dtype: torch.dtype) -> str:
    if dtype == torch.bool:
        return "bool"
    return "float" if dtype.is_floating_point else ("complex" if dtype.is_complex else "integer")


def _compare_tensor(ref: Tensor, got: Any, here: str) -> None:
    if not isinstance(got, Tensor):
        raise ValueError(f"{here}: expected a tensor of shape {tuple(ref.shape)}, got {type(got).__name__} "
                         f"{short_repr(got)}")
    if got.device.type == "meta":
        raise ValueError(f"{here}: a meta tensor holds no values; params must be on the CPU or the batch's device")
    if tuple(got.shape) != tuple(ref.shape):
        raise ValueError(f"{here}: expected shape {tuple(ref.shape)} (one entry per sample of the batch), got "
                         f"{tuple(got.shape)}")
    if _kind(got.dtype) != _kind(ref.dtype):
        raise ValueError(f"{here}: expected a {_kind(ref.dtype)} tensor ({ref.dtype}), got {got.dtype}")
    if got.dtype.is_floating_point and got.numel():
        if not bool(torch.isfinite(got).all()):
            raise ValueError(f"{here}: holds NaN or infinite values")
        if float(got.abs().max()) > LIMIT:
            raise ValueError(f"{here}: holds values beyond +-{LIMIT:g} (largest {float(got.abs().max()):g})")
