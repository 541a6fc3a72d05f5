"""The HQ images of ``degrade-stream demo``: the shipped samples, or the user's own folder (``--hq DIR``).

Every image is read and checked before the demo writes anything: an empty folder, an unreadable file or an image
smaller than its rows' chains accept is an error naming it. A user's images are shown as the samples are: a name
holding ``face`` (or every image, with ``--faces``) makes a face row (blind face restoration, LQ at the HQ size),
any other a natural row (x4 super-resolution). Images larger than ``size`` per side are centre-cropped to it
(natural) or resized so their longer side is ``size`` (aligned faces, kept whole), so the refiner's CPU time stays
that of the shipped samples.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import torch.nn.functional as F
from torch import Tensor

from ..core.resources import assets_root
from ..io import IMAGE_EXTENSIONS, flat_name, list_images, load_image, save_image

GROUPS = ("natural", "face")


def select_images(hq: Path | None, limit: int) -> list[Path]:
    """The shipped samples, or the first ``limit`` images of ``hq`` by name (a ValueError if it has none)."""
    if hq is None:
        return sorted((assets_root() / "samples").glob("*.png"))
    if not hq.is_dir():
        raise ValueError(f"--hq {hq}: {'is a file, not a folder' if hq.exists() else 'no such folder'}")
    images = list_images(hq)
    if not images:
        raise ValueError(f"--hq {hq}: no images in it (looked for {', '.join(IMAGE_EXTENSIONS)}, in subfolders too)")
    if limit < 1:
        raise ValueError(f"--limit must be >= 1, got {limit}")
    return images[:limit]


def group_of(path: Path, faces: bool) -> str:
    """'face' for a face image, else 'natural'."""
    return "face" if faces or "face" in path.stem.lower() else "natural"


def fit(image: Tensor, size: int, group: str) -> Tensor:
    """(3, H, W) ``image`` with no side over ``size``: centre-cropped (natural) or resized whole (face)."""
    h, w = image.shape[-2:]
    if size <= 0 or max(h, w) <= size:
        return image
    if group == "face":
        scale = size / max(h, w)
        out = (max(1, round(h * scale)), max(1, round(w * scale)))
        return F.interpolate(image[None], size=out, mode="bicubic", antialias=True)[0].clamp(0, 1)
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return image[:, top:top + size, left:left + size]


def prepare_inputs(images: list[Path], root: Path | None, faces: bool, size: int, min_side: dict[str, int],
                   folder: Path) -> dict[str, list[str]]:
    """Check every image and write the ones the demo uses as PNG into ``folder``/<group>/; group -> names.

    ``root``: the user's folder (names are paths under it, ``io.flat_name``), or None for the shipped samples
    (copied as they are). ``min_side``: the smallest side each group's chains accept."""
    prepared: list[tuple[str, str, Tensor, Path]] = []
    for path in images:
        group = group_of(path, faces)
        image = load_image(path)  # a ValueError naming the file if it cannot be read
        if root is not None:
            image = fit(image, size, group)
        h, w = image.shape[-2:]
        if min(h, w) < min_side[group]:
            raise ValueError(f"{path}: {w}x{h} is too small for the demo's {group} rows, which need at least "
                             f"{min_side[group]} px per side")
        name = path.stem if root is None else flat_name(path.relative_to(root).with_suffix(""))
        prepared.append((group, name, image, path))
    names: dict[str, list[str]] = {g: [] for g in GROUPS}
    for group, name, image, path in prepared:
        (folder / group).mkdir(parents=True, exist_ok=True)
        if root is None:
            shutil.copyfile(path, folder / group / path.name)  # the shipped samples, byte for byte
        else:
            save_image(image, folder / group / f"{name}.png")
        names[group].append(name)
    return names
