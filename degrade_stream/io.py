"""Image files in and out: any mode (RGBA, gray, 16-bit) to RGB float in [0, 1]; atomic PNG writes."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from .atomic import atomic_target
from .core.quantize import uint8_levels

#: The file name endings read as images everywhere (``list_images``; checked case-insensitively).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


def flat_name(relative: str | os.PathLike) -> str:
    """The flat output name of a file at ``relative`` inside an input folder: sub/dir/x.png -> sub__dir__x.

    BasicSR and mmagic read one flat gt/ and lq/ folder, so the writer names pairs this way and the
    evaluation matches HQ and LQ files by it."""
    return Path(relative).with_suffix("").as_posix().replace("/", "__")


def list_images(folder: str | os.PathLike, recursive: bool = True,
                exclude: Sequence[str | os.PathLike] = ()) -> list[Path]:
    """Image files under ``folder`` (by extension, case-insensitive), sorted; hidden files and folders
    skipped, and so is everything under the folders in ``exclude`` (e.g. an output folder inside it)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}{' (it is a file)' if folder.exists() else ''}")
    skip = {os.path.realpath(p) for p in exclude}
    found = []

    def unreadable(err: OSError) -> None:  # the folder itself must be readable; an unreadable subfolder is passed over
        if os.path.realpath(err.filename) == os.path.realpath(folder):
            raise err

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs
                         if not d.startswith(".") and os.path.realpath(os.path.join(root, d)) not in skip)
        if not recursive:
            dirs[:] = []
        found.extend(Path(root, f) for f in files
                     if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_EXTENSIONS
                     and os.path.isfile(os.path.join(root, f)))
    return sorted(found)


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """HWC float32 RGB in [0, 1] from any PIL mode (alpha dropped, gray replicated, 16-bit scaled)."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(image).astype(np.float32)
        peak = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(arr / peak, 0.0, 1.0)
        return np.repeat(arr[..., None], 3, axis=2)
    if mode == "F":
        arr = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
        return np.repeat(arr[..., None], 3, axis=2)
    arr = np.asarray(image)
    if arr.dtype == np.uint16:  # 16-bit RGB(A) TIFF/PNG read natively
        arr = arr[..., :3] if arr.ndim == 3 else np.repeat(arr[..., None], 3, axis=2)
        return arr.astype(np.float32) / 65535.0
    if mode != "RGB":
        image = image.convert("RGB")  # L, LA, P, RGBA, CMYK, ...: alpha dropped
        arr = np.asarray(image)
    return arr.astype(np.float32) / 255.0


def _decode(source: str | os.PathLike | io.BytesIO, name: str) -> Tensor:
    """(3, H, W) float32 RGB in [0, 1] from a file or an in-memory file; ValueError naming ``name``."""
    try:
        with Image.open(source) as image:
            image.load()
            arr = _to_rgb_array(image)
    except FileNotFoundError:
        raise
    except Exception as err:  # PIL raises many types for corrupt/unsupported files
        raise ValueError(f"cannot read image {name}: {err}") from None
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def load_image(path: str | os.PathLike) -> Tensor:
    """A (3, H, W) float32 RGB tensor in [0, 1]; raises ValueError naming the file if unreadable."""
    return _decode(Path(path), str(Path(path)))


def decode_image(data: bytes, name: str = "<bytes>") -> Tensor:
    """``load_image`` for a file's contents (e.g. a row of ``ray.data.read_binary_files``): the same
    pixels as reading the file from disk; raises ValueError naming ``name`` if unreadable."""
    return _decode(io.BytesIO(data), name)


def to_uint8(image: Tensor) -> np.ndarray:
    """(3, H, W) float in [0, 1] -> HWC uint8, rounded to nearest."""
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) image, got shape {tuple(image.shape)}")
    arr = uint8_levels(image.detach().float()).cpu().numpy()
    return arr.transpose(1, 2, 0)


def encode_png(image: Tensor) -> bytes:
    """A (3, H, W) [0, 1] image as the bytes of the 8-bit PNG file ``save_image`` writes."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def save_image(image: Tensor, path: str | os.PathLike) -> Path:
    """Write a (3, H, W) [0, 1] image as 8-bit PNG atomically: a temp file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = encode_png(image)
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)
    return path


def iter_images(folder: str | os.PathLike) -> Iterator[tuple[Path, Tensor | Exception]]:
    """(path, image) for each image file, or (path, error) for one that cannot be read."""
    for path in list_images(folder):
        try:
            yield path, load_image(path)
        except ValueError as err:
            yield path, err
