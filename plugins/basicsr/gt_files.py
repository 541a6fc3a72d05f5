"""The HQ files of a BasicSR dataset: every image under ``dataroot_gt``, or those a meta_info file lists."""
from __future__ import annotations

from pathlib import Path

from degrade_stream.core import ConfigError
from degrade_stream.io import IMAGE_EXTENSIONS, list_images


def list_gt_files(dataroot_gt: object, meta_info: object = None) -> list[tuple[Path, str]]:
    """(path, key) per HQ image; the key is the path relative to ``dataroot_gt`` (POSIX), stable
    across machines, which makes it the sample key for per-sample seeds and the pair cache.

    ``meta_info`` follows BasicSR: one image per line, path relative to ``dataroot_gt`` first, other
    columns (e.g. ``(480,480,3)``) ignored; blank lines and ``#`` comments skipped.
    """
    if dataroot_gt is None:
        raise ConfigError("dataroot_gt", "missing: the folder of HQ (ground-truth) images")
    if not isinstance(dataroot_gt, (str, Path)):
        raise ConfigError("dataroot_gt", f"expected a folder path, got {type(dataroot_gt).__name__} {dataroot_gt!r}")
    root = Path(dataroot_gt).expanduser()
    if not root.is_dir():
        raise ConfigError("dataroot_gt", f"not a folder: {root}")
    if meta_info is None:
        files = [(p, p.relative_to(root).as_posix()) for p in list_images(root)]
        if not files:
            raise ConfigError("dataroot_gt", f"no image files ({', '.join(IMAGE_EXTENSIONS)}) under {root}")
        return files
    return _from_meta_info(root, meta_info)


def _from_meta_info(root: Path, meta_info: object) -> list[tuple[Path, str]]:
    if not isinstance(meta_info, (str, Path)):
        raise ConfigError("meta_info", f"expected a file path, got {type(meta_info).__name__} {meta_info!r}")
    meta = Path(meta_info).expanduser()
    try:
        lines = meta.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ConfigError("meta_info", f"cannot read {meta}: {err.strerror or err}") from None
    files = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key = text.split()[0]
        path = root / key
        if not path.is_file():
            raise ConfigError("meta_info", f"{meta} line {number}: {key!r} is not a file under dataroot_gt ({root})")
        files.append((path, Path(key).as_posix()))
    if not files:
        raise ConfigError("meta_info", f"{meta} lists no images")
    return files
