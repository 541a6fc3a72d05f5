"""Utilities over params trees (nested dicts/lists of (B, ...) tensors): select, concatenate, move."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import Tensor


def map_params(params: Any, fn: Callable[[Tensor], Any]) -> Any:
    """Apply ``fn`` to every tensor leaf, keeping the structure."""
    if isinstance(params, Tensor):
        return fn(params)
    if isinstance(params, dict):
        return {k: map_params(v, fn) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return type(params)(map_params(v, fn) for v in params)
    return params


def select_params(params: Any, index: Tensor | Sequence[int] | slice) -> Any:
    """The params of a subset of samples (indexing dim 0 of every tensor)."""
    if not isinstance(index, slice):
        index = torch.as_tensor(index, dtype=torch.long)
    return map_params(params, lambda t: t[index.to(t.device) if isinstance(index, Tensor) else index])


def cat_params(parts: Sequence[Any]) -> Any:
    """Concatenate params of several sub-batches along dim 0 (inverse of select_params)."""
    first = parts[0]
    if isinstance(first, Tensor):
        return torch.cat([p.to(first.device) for p in parts], 0)
    if isinstance(first, dict):
        return {k: cat_params([p[k] for p in parts]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(cat_params([p[i] for p in parts]) for i in range(len(first)))
    return first


def params_to(params: Any, device: torch.device | str) -> Any:
    """Move every tensor leaf to ``device``."""
    return map_params(params, lambda t: t.to(device))


def params_to_lists(params: Any) -> Any:
    """Plain Python lists (JSON/YAML-safe) for logging."""
    return map_params(params, lambda t: t.detach().cpu().tolist())
