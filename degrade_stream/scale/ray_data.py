"""Ray Data integration (the ``degrade_stream[ray]`` extra): offline (HQ, LQ) pairs over a Ray cluster.

    from degrade_stream.scale.ray_data import read_hq, synthesize_dataset
    hq = read_hq("s3://bucket/hq/")                                   # rows: bytes, path
    pairs = synthesize_dataset(hq, "realesrgan", root="s3://bucket/hq/", seed=0)
    pairs.write_parquet("s3://bucket/pairs/")                         # or iterate, or write shards

Each pair is what ``degrade-stream synthesize --hq <root>`` writes for the same file (rows.py). The chain
runs in ``Dataset.map_batches`` with ``map_batches_args``: a chain holding a model (``ddpm_refine``)
runs in a fixed pool of actors, each loading it once (``num_gpus`` GPUs per actor: Ray's offline batch
inference pattern, docs.ray.io "End-to-end: Offline Batch Inference"); a handcrafted chain, cheap to
build, runs as plain Ray tasks that keep one chain per worker process, or in a pool of ``actors``.
"""
from __future__ import annotations

import json
import os
from typing import Any, Mapping

import ray

from ..core.config import load_chain, resolve_config
from ..io import IMAGE_EXTENSIONS, list_images
from .rows import PairRows, strip_scheme

_WORKER_ROWS: dict[str, PairRows] = {}
#: Files per read block for a local folder. Ray sizes blocks by bytes (up to ~128 MiB), which puts thousands
#: of small images in one block that only one worker can take; degrading costs far more per byte than reading.
FILES_PER_BLOCK = 16
MAX_BLOCKS = 10_000


def _is_local(uri: str) -> bool:
    return strip_scheme(uri) == uri or uri.startswith(("local://", "file://"))


def local_root(uri: str | os.PathLike) -> str:
    """``uri`` as Ray reports paths under it: absolute for a local folder, without the scheme otherwise."""
    text = os.fspath(uri)
    return os.path.abspath(strip_scheme(text)) if _is_local(text) else strip_scheme(text).rstrip("/")


def read_hq(uri: str | os.PathLike, **read_args: Any) -> "ray.data.Dataset":
    """HQ rows ``{bytes, path}`` from a folder or any Ray-readable URI (``read_binary_files``).

    A local folder is read as exactly the files synthesize reads (``io.list_images``: by extension, hidden
    files left out), ``FILES_PER_BLOCK`` files per block; elsewhere Ray lists the files (same extensions)
    and sizes the blocks: pass ``override_num_blocks`` (e.g. files / 16) so that every worker gets work.
    The bytes are decoded in the pair workers by the decoder synthesize uses, so every image mode (16-bit,
    palette, RGBA) gives its pixels."""
    text = os.fspath(uri)
    if _is_local(text):
        paths: str | list[str] = [str(p.resolve()) for p in list_images(strip_scheme(text))]
        if not paths:
            raise ValueError(f"no image files under {text} (looked for {', '.join(IMAGE_EXTENSIONS)})")
        read_args.setdefault("override_num_blocks", min(MAX_BLOCKS, -(-len(paths) // FILES_PER_BLOCK)))
    else:
        paths = text
        read_args.setdefault("file_extensions", [e.lstrip(".") for e in IMAGE_EXTENSIONS])
    return ray.data.read_binary_files(paths, include_paths=True, **read_args)


def synthesize_rows(batch: Mapping[str, Any], **options: Any) -> dict[str, Any]:
    """Task form of ``PairRows(**options)(batch)``: the PairRows (and its chain) is built once per worker
    process and kept, since Ray reuses worker processes for tasks."""
    token = json.dumps(options, sort_keys=True, default=str)
    rows = _WORKER_ROWS.get(token)
    if rows is None:
        rows = _WORKER_ROWS[token] = PairRows(**options)
    return rows(batch)


def holds_model(config: str | os.PathLike | Mapping[str, Any]) -> bool:
    """Whether a stage of the chain keeps a model on a device (``ddpm_refine``): worth one load per actor."""
    chain = load_chain(resolve_config(config, "chains"))
    return any(callable(getattr(stage, "to", None)) for stage in chain.stages)


def map_batches_args(config: str | os.PathLike | Mapping[str, Any], *, seed: int = 0, root: str | None = None,
                     variants: int = 1, batch_size: int = 8, actors: int | None = None,
                     num_gpus: float | None = None, num_cpus: float = 1, threads: int | None = 1,
                     png: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``dataset.map_batches(**args)`` that add pairs to rows of HQ images.

    ``batch_size`` rows go to each call (Ray needs an integer with GPUs). With a model in the chain, or
    with ``actors``, a fixed pool of ``actors`` (default 1) callable-class actors, each with ``num_gpus``
    GPUs (default 1 for a model chain, 0 otherwise) and ``num_cpus`` CPUs; else tasks of ``num_cpus``
    CPUs. ``threads``: torch intra-op threads per worker (None: torch's default). ``root``: the folder
    or URI the rows were read from (their keys are paths relative to it, as synthesize's to --hq).
    ``png``: gt and lq as the PNG files' bytes rather than arrays (rows.PairRows)."""
    config = resolve_config(config, "chains")  # a dict: the workers need no config file
    options = {"config": config, "seed": seed, "root": None if root is None else local_root(root),
               "variants": variants, "batch_size": batch_size, "threads": threads, "png": png}
    model = holds_model(config)
    args: dict[str, Any] = {"batch_size": batch_size, "batch_format": "numpy", "num_cpus": num_cpus}
    if not model and actors is None:
        return {**args, "fn": synthesize_rows, "fn_kwargs": options}
    gpus = num_gpus if num_gpus is not None else (1 if model else 0)
    options["device"] = "cuda" if gpus else "cpu"  # Ray gives a GPU actor its own CUDA_VISIBLE_DEVICES
    return {**args, "fn": PairRows, "fn_constructor_kwargs": options, "num_gpus": gpus,
            "compute": ray.data.ActorPoolStrategy(size=actors or 1)}


def synthesize_dataset(dataset: "ray.data.Dataset", config: str | os.PathLike | Mapping[str, Any],
                       **options: Any) -> "ray.data.Dataset":
    """``dataset`` (rows with an image and a key or path) mapped to pairs (rows.OUTPUT_COLUMNS); the
    options are those of ``map_batches_args``."""
    return dataset.map_batches(**map_batches_args(config, **options))

