"""What a PairCache entry was made by: the chain's config and, for stages that run a trained model, the
checkpoint step it resolved to and a hash of the files it loads.

A ``ddpm_refine`` stage names its model by a path, and a training run's ``--out`` folder resolves to its
latest step (``diffusion.checkpoint.resolve_checkpoint``): the config alone stays the same while the
weights change with every retraining. So the cache's identity of a chain holds, per model stage, the
resolved step folder and the SHA-256 of the weights and config files the denoiser loads
(``diffusion.denoiser.load_unet``), and entries of another model are never served. Hashes are memoised per
file by (device, inode, size, mtime), so a file is read once per process unless it changes.

What an entry was made from includes the HQ pixels themselves (``hq_fingerprints``), so the same key with
new pixels is a miss.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..core.chain import Chain
from ..core.transform import Transform

_STEP_NAME = re.compile(r"^step_\d+$")
_MEMO: dict[tuple, str] = {}
_LOCK = threading.Lock()


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file, memoised by its (device, inode, size, mtime)."""
    st = path.stat()
    stamp = (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _LOCK:
        known = _MEMO.get(stamp)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    with _LOCK:
        _MEMO[stamp] = digest.hexdigest()
    return _MEMO[stamp]


def model_files(checkpoint: str, ema: bool) -> tuple[Path, list[Path]]:
    """(resolved checkpoint folder, the files the denoiser loads from it) for a stage's ``checkpoint``."""
    from ..diffusion.checkpoint import CONFIG_FILE, EMA_FILE, MODEL_FILE
    from ..diffusion.denoiser import resolve_spec
    from ..diffusion.diffusers_import import WEIGHT_FILES

    kind, path = resolve_spec(checkpoint)
    if kind == "project-file":
        return path.parent, [path.parent / CONFIG_FILE, path]
    if kind == "project":
        return path, [path / CONFIG_FILE, path / (EMA_FILE if ema else MODEL_FILE)]
    unet = path / "unet" if (path / "unet").is_dir() else path
    names = ["config.json", *WEIGHT_FILES]
    found = [unet / n for n in names if (unet / n).is_file()]
    scheduler = path / "scheduler" / "scheduler_config.json"
    return path, found + ([scheduler] if scheduler.is_file() else [])


def model_identity(stage: Transform) -> dict[str, Any] | None:
    """The resolved step and file hashes of a stage that loads a model (one with a ``checkpoint``); None
    for stages without one."""
    checkpoint = getattr(stage, "checkpoint", None)
    if not isinstance(checkpoint, str):
        return None
    folder, files = model_files(checkpoint, bool(getattr(stage, "ema", True)))
    return {"step": folder.name if _STEP_NAME.match(folder.name) else None,
            "files": {f.name: file_sha256(f) for f in files}}


def chain_identity(chain: Chain) -> dict[str, Any]:
    """The chain's config hash and the identity of each model stage (by stage index)."""
    models = {str(k): ident for k, stage in enumerate(chain.stages) if (ident := model_identity(stage)) is not None}
    identity: dict[str, Any] = {"chain": chain.config_hash()}
    if models:
        identity["models"] = models
    return identity


def folder_key(identity: dict[str, Any]) -> str:
    """The 16-hex folder name of a chain identity: the config hash alone for chains without a model."""
    if "models" not in identity:
        return identity["chain"]
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def hq_fingerprints(hq: Tensor) -> list[str]:
    """Per sample of a (B, C, H, W) batch, the SHA-256 (hex) of its dtype, shape and exact pixel bytes,
    hashed from a view of the host memory (no copy for a contiguous CPU batch; SHA-256 rather than BLAKE2b:
    CPUs with SHA extensions hash it faster, benchmarks/RESULTS.md "Pair integrity")."""
    host = hq.detach().to("cpu").contiguous()
    prints = []
    for image in host:
        digest = hashlib.sha256(f"{image.dtype}|{tuple(image.shape)}|".encode("ascii"))
        digest.update(image.reshape(-1).view(torch.uint8).numpy())
        prints.append(digest.hexdigest())
    return prints


def clear_memo() -> None:
    """Forget the memoised file hashes."""
    with _LOCK:
        _MEMO.clear()
