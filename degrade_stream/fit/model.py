"""A fitted camera model and its safetensors file: the kernel bank, colour maps and noise model.

Tensors (N bank entries, one per fitted scene; k odd; s odd):

- ``kernels`` (N, 3, k, k): per-channel blur kernels, each summing to 1 (negative taps allowed)
- ``colour`` (N, 3, 4): affine colour maps L ~ M [H; 1]
- ``noise_a``, ``noise_b`` (N, 3): Poisson-Gaussian variance a mu + b per channel (intensities in [0, 1])
- ``chroma`` (3, 3): lower Cholesky factor of the noise's channel correlation
- ``spatial`` (s, s): the noise's colouring filter (unit energy)
- ``detail`` (N, 3): the detail residual's variance per unit texture energy, c in c E (fit/noise.py)
- ``detail_chroma`` (3, 3), ``detail_spatial`` (d, d): its channel correlation (Cholesky) and colouring filter

The three ``detail`` tensors are optional in a file (models written before they existed): without them the
model has no detail residual (c = 0), and the stage's output is what it was.

Metadata (strings): ``format`` (``degrade_stream.camera/1``), ``scale`` (integer H/L size ratio) and
``names`` (JSON list of the scenes, one per entry). Reading checks every key, shape and value and names the
file and the key in its error; writing is atomic.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor

from ..atomic import atomic_target

FORMAT = "degrade_stream.camera/1"
KEYS = ("kernels", "colour", "noise_a", "noise_b", "chroma", "spatial")
#: optional tensors (fit/noise.py's detail residual); absent: no detail residual
DETAIL_KEYS = ("detail", "detail_chroma", "detail_spatial")


@dataclass
class CameraModel:
    """The fitted camera: bank tensors, global noise correlation, scale and scene names."""

    kernels: Tensor
    colour: Tensor
    noise_a: Tensor
    noise_b: Tensor
    chroma: Tensor
    spatial: Tensor
    scale: int = 1
    names: tuple[str, ...] = ()
    detail: Tensor | None = None
    detail_chroma: Tensor | None = None
    detail_spatial: Tensor | None = None

    def __post_init__(self) -> None:
        if self.detail is None:
            self.detail = torch.zeros(self.kernels.shape[0], 3)
        if self.detail_chroma is None:
            self.detail_chroma = torch.eye(3)
        if self.detail_spatial is None:
            self.detail_spatial = torch.ones(1, 1)

    @property
    def entries(self) -> int:
        return int(self.kernels.shape[0])

    @property
    def has_detail(self) -> bool:
        """Whether any entry has a detail residual (c > 0)."""
        return bool((self.detail > 0).any())

    def tensors(self) -> dict[str, Tensor]:
        return {key: getattr(self, key).detach().to("cpu", torch.float32).contiguous() for key in KEYS + DETAIL_KEYS}


def _expect(path: Path, key: str, tensor: Tensor, shape: tuple[int | None, ...]) -> None:
    ok = tensor.dim() == len(shape) and all(want is None or have == want for have, want in zip(tensor.shape, shape))
    if not ok:
        want = ", ".join("N" if s is None else str(s) for s in shape)
        raise ValueError(f"{path}: '{key}' has shape {tuple(tensor.shape)}, expected ({want})")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{path}: '{key}' holds NaN or infinite values")


def check_model(model: CameraModel, path: Path | str = "camera model") -> CameraModel:
    """``model`` itself after checking every shape and value; a ValueError naming ``path`` and the key."""
    path = Path(path)
    n, k = model.entries, int(model.kernels.shape[-1]) if model.kernels.dim() == 4 else 0
    _expect(path, "kernels", model.kernels, (None, 3, k, k))
    if n < 1 or k % 2 == 0:
        raise ValueError(f"{path}: 'kernels' must hold >= 1 entry of odd size, got {tuple(model.kernels.shape)}")
    _expect(path, "colour", model.colour, (n, 3, 4))
    _expect(path, "noise_a", model.noise_a, (n, 3))
    _expect(path, "noise_b", model.noise_b, (n, 3))
    _expect(path, "chroma", model.chroma, (3, 3))
    s = int(model.spatial.shape[-1]) if model.spatial.dim() == 2 else 0
    _expect(path, "spatial", model.spatial, (s, s))
    _expect(path, "detail", model.detail, (n, 3))
    _expect(path, "detail_chroma", model.detail_chroma, (3, 3))
    d = int(model.detail_spatial.shape[-1]) if model.detail_spatial.dim() == 2 else 0
    _expect(path, "detail_spatial", model.detail_spatial, (d, d))
    if s % 2 == 0 or d % 2 == 0:
        raise ValueError(f"{path}: 'spatial' and 'detail_spatial' must be odd-sized, got {tuple(model.spatial.shape)} "
                         f"and {tuple(model.detail_spatial.shape)}")
    if bool((model.noise_a < 0).any()) or bool((model.noise_b < 0).any()) or bool((model.detail < 0).any()):
        raise ValueError(f"{path}: 'noise_a', 'noise_b' and 'detail' must be >= 0 (variances)")
    if not 1 <= model.scale <= 8:
        raise ValueError(f"{path}: scale must be an integer in [1, 8], got {model.scale}")
    if model.names and len(model.names) != n:
        raise ValueError(f"{path}: {len(model.names)} names for {n} bank entries")
    return model


def save_model(model: CameraModel, path: str | os.PathLike) -> Path:
    """Write ``model`` to a safetensors file atomically; returns the path."""
    check_model(model, path)
    path = Path(path)
    metadata = {"format": FORMAT, "scale": str(model.scale), "names": json.dumps(list(model.names))}
    with atomic_target(path) as tmp:
        save_file(model.tensors(), str(tmp), metadata=metadata)
    return path


def load_model(path: str | os.PathLike) -> CameraModel:
    """Read and check a camera model file; errors name the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"camera model file not found: {path}")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), "pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable safetensors file: {err}") from None
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path}: not a camera model (metadata format {metadata.get('format')!r}, expected "
                         f"{FORMAT!r}); write one with degrade-stream fit-camera")
    missing = [key for key in KEYS if key not in tensors]
    if missing:
        raise ValueError(f"{path}: missing tensor(s) {missing}; a camera model holds {list(KEYS)}")
    try:
        scale, names = int(metadata.get("scale", "1")), tuple(json.loads(metadata.get("names", "[]")))
    except (ValueError, TypeError):
        raise ValueError(f"{path}: unreadable metadata 'scale' or 'names': {metadata}") from None
    extra = {k: tensors[k] for k in DETAIL_KEYS if k in tensors}
    if extra and len(extra) != len(DETAIL_KEYS):
        raise ValueError(f"{path}: holds {sorted(extra)} but not all of {list(DETAIL_KEYS)} (the detail residual "
                         f"needs all three)")
    return check_model(CameraModel(**{k: tensors[k] for k in KEYS}, scale=scale, names=names, **extra), path)


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
