"""Weights files checked against the architecture before anything is built (issue 23 items 6 and 10).

A safetensors file's header lists every tensor's name, dtype and shape; ``tensor_specs`` reads it without
loading the data (``safetensors.safe_open``). ``check_specs`` compares them with the shapes of the UNet a
config describes, computed on the ``meta`` device (unet.parameter_shapes): only when every name and
shape matches, every dtype is floating point and the file fits in memory is the network allocated and the
data read. So a config.yaml or config.json claiming a 17 TB network is refused at once, naming the file,
and integer or bool tensors (which a cast would silently turn into nonsense weights) are refused naming the
file and the tensor.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import torch
from safetensors import SafetensorError, safe_open
from torch import Tensor

from ..core.errors import short_repr
from .memory import check_loadable

#: dtypes a weights file may hold (safetensors names and torch dtypes); anything else is refused, not cast
FLOAT_NAMES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
FLOAT_DTYPES = tuple(FLOAT_NAMES.values())
TensorSpec = tuple[tuple[int, ...], str]  # (shape, dtype name)


def tensor_specs(path: Path) -> dict[str, TensorSpec]:
    """Name -> (shape, safetensors dtype) of every tensor in a safetensors file, read from its header only."""
    try:
        with safe_open(str(path), framework="pt") as f:
            out = {}
            for name in f.keys():
                piece = f.get_slice(name)
                out[name] = (tuple(piece.get_shape()), str(piece.get_dtype()))
            return out
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ValueError(f"{path}: not a readable safetensors weights file, perhaps truncated or written by "
                         f"something else ({' '.join(str(err).split())[:200]})") from None


def specs_of(state: Mapping[str, Tensor]) -> dict[str, TensorSpec]:
    """The same for tensors already in memory (or memory-mapped): their shapes and dtypes."""
    return {k: (tuple(v.shape), _dtype_name(v.dtype)) for k, v in state.items()}


def _dtype_name(dtype: torch.dtype) -> str:
    for name, d in FLOAT_NAMES.items():
        if d == dtype:
            return name
    return str(dtype).replace("torch.", "")


def check_dtypes(specs: Mapping[str, TensorSpec], source: str) -> None:
    """Refuse any tensor that is not floating point, naming the file and the tensor."""
    for name, (_, dtype) in specs.items():
        if dtype not in FLOAT_NAMES:
            raise ValueError(f"{source}: tensor {short_repr(name)} has dtype {dtype}; weights must be floating "
                             f"point ({', '.join(FLOAT_NAMES)}): refused rather than cast")


def check_specs(specs: Mapping[str, TensorSpec], expected: Mapping[str, tuple[int, ...]], source: str,
                config_source: str) -> None:
    """Refuse weights whose names, shapes or dtypes differ from the architecture in ``config_source`` (its
    shapes: ``expected``), or that would not fit in memory; errors name the file and the tensors."""
    check_dtypes(specs, source)
    missing = [k for k in expected if k not in specs]
    unexpected = [k for k in specs if k not in expected]
    shapes = [f"{k}: file {specs[k][0]} vs config {expected[k]}" for k in expected if k in specs
              and tuple(specs[k][0]) != tuple(expected[k])]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} weights (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} weights (e.g. {', '.join(short_repr(k) for k in unexpected[:3])})")
        if shapes:
            parts.append(f"wrong shapes ({'; '.join(shapes[:3])})")
        raise ValueError(f"{source}: the weights do not match the architecture in {config_source}: "
                         + "; ".join(parts))
    weight_bytes = sum(_numel(shape) * FLOAT_NAMES[dtype].itemsize for shape, dtype in specs.values())
    check_loadable(weight_bytes, sum(_numel(s) for s in expected.values()), source)


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n
