"""Build the City100 train/test pair folders (issue 12's fixed split) as symlinks.

    python benchmarks/prepare_city100.py /work/runs/city100 [--source /work/shared/data/city100_iphone]

Scene NNN goes to test when int(sha256(b"NNN").hexdigest()[:8], 16) % 100 < 30, else to train.
Writes OUT_DIR/{train,test}/gt/NNN.png -> NNNH.png and OUT_DIR/{train,test}/lq/NNN.png -> NNNL.png.
The whole tree is built in a temp folder beside OUT_DIR and renamed into place, so a failed run leaves
nothing; an OUT_DIR that already exists is an error.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

DEFAULT_SOURCE = Path("/work/shared/data/city100_iphone")
_HQ_NAME = re.compile(r"^(\d{3})H\.png$")


def split_of(scene: str) -> str:
    """'test' or 'train' for a three-digit scene id, by the shared sha256 rule."""
    return "test" if int(hashlib.sha256(scene.encode()).hexdigest()[:8], 16) % 100 < 30 else "train"


def scenes(source: Path) -> list[str]:
    """Scene ids with both NNNH.png and NNNL.png in ``source``; an error for a lone half."""
    if not source.is_dir():
        raise SystemExit(f"error: --source {source} is not a folder")
    ids = sorted(m.group(1) for p in source.iterdir() if (m := _HQ_NAME.match(p.name)))
    missing = [f"{s}L.png" for s in ids if not (source / f"{s}L.png").is_file()]
    if missing:
        raise SystemExit(f"error: {source} lacks the LQ half of {len(missing)} pair(s): {', '.join(missing[:5])}")
    if not ids:
        raise SystemExit(f"error: {source} holds no NNNH.png / NNNL.png pairs")
    return ids


def build(out: Path, source: Path) -> dict[str, list[str]]:
    """Write the split tree to ``out`` (atomically); return {split: scene ids}."""
    if out.exists():
        raise SystemExit(f"error: {out} already exists; remove it or choose another OUT_DIR")
    ids = scenes(source)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    split: dict[str, list[str]] = {"train": [], "test": []}
    try:
        for part in ("train", "test"):
            for sub in ("gt", "lq"):
                (tmp / part / sub).mkdir(parents=True)
        for scene in ids:
            part = split_of(scene)
            split[part].append(scene)
            (tmp / part / "gt" / f"{scene}.png").symlink_to((source / f"{scene}H.png").resolve())
            (tmp / part / "lq" / f"{scene}.png").symlink_to((source / f"{scene}L.png").resolve())
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args(argv)
    split = build(args.out_dir, args.source)
    for part, ids in split.items():
        print(f"{part}: {len(ids)} scenes: {' '.join(ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
