"""``degrade-stream fit-camera``: measure a camera's degradation from aligned pairs and write a chain.

Writes OUT/camera.yaml (a one-stage ``camera`` chain that names the model by absolute path and SHA-256),
OUT/camera.safetensors (the kernel bank, colour maps and noise model) and OUT/report.json, all at once: the
folder is built under a temp name and renamed into place, so an error leaves nothing. OUT must not exist or
be an empty folder (nothing the project did not write is ever replaced).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml

from ..atomic import atomic_folder
from ..core.config import chain_from_dict
from ..fit.fit_camera import fit_camera
from ..fit.fit_pair import FitSettings
from ..fit.model import file_sha256, save_model
from ..fit.pairs import AlignmentBounds
from .arg_checks import path_arg

MODEL_FILE, CHAIN_FILE, REPORT_FILE = "camera.safetensors", "camera.yaml", "report.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pairs", required=True, metavar="DIR", type=path_arg,
                        help="aligned pairs DIR/gt/NAME + DIR/lq/NAME (L at H's size, or smaller by an "
                             "integer scale)")
    parser.add_argument("--out", required=True, metavar="OUT", type=path_arg,
                        help="a new folder for camera.yaml, camera.safetensors and report.json")
    parser.add_argument("--kernel-size", type=int, default=15, help="odd kernel size in L px (default 15)")
    parser.add_argument("--ridge", type=float, default=1e-3,
                        help="Tikhonov weight on the taps, relative to the data (default 0.001)")
    parser.add_argument("--smooth", type=float, default=1e-2,
                        help="weight of the kernel-gradient penalty, relative to the data (default 0.01)")
    parser.add_argument("--stride", type=int, default=0,
                        help="use every N-th pixel in the normal equations (default 0: about 60k rows per direction)")
    parser.add_argument("--noise-size", type=int, default=7,
                        help="odd size of the noise correlation window (default 7)")
    parser.add_argument("--min-pairs", type=int, default=2, help="refuse fewer pairs than this (default 2)")
    parser.add_argument("--max-shift", type=float, default=4.0,
                        help="refuse a pair whose L is shifted from H by more than this many px (default 4)")
    parser.add_argument("--max-local-error", type=float, default=2.0,
                        help="refuse a pair whose textured tiles deviate from its shift by more "
                             "(median, px; default 2)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def check_args(args: argparse.Namespace) -> None:
    for option, value, odd in (("--kernel-size", args.kernel_size, True), ("--noise-size", args.noise_size, True),
                               ("--min-pairs", args.min_pairs, False)):
        if value < 1 or (odd and value % 2 == 0):
            raise ValueError(f"{option} must be {'an odd integer ' if odd else ''}>= 1, got {value}")
    for option, value in (("--ridge", args.ridge), ("--smooth", args.smooth), ("--max-shift", args.max_shift),
                          ("--max-local-error", args.max_local_error), ("--stride", args.stride)):
        if not value >= 0:
            raise ValueError(f"{option} must be >= 0, got {value}")
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"--out {out} exists and is not an empty folder; choose a new folder")


def chain_config(model_path: Path, sha: str, pairs: str, count: int) -> dict:
    """The one-stage chain that fit-camera writes (its free numbers at neutral values)."""
    return {"name": "camera_fit",
            "description": f"camera fitted by degrade-stream fit-camera to {count} pairs in {pairs}",
            "stages": [{"type": "camera", "model": str(model_path), "model_sha256": sha, "resize_back": False,
                        "colour": True, "noise_gain_range": [1.0, 1.0], "jpeg_prob": 0.0,
                        "jpeg_range": [90.0, 100.0], "detail_gain_range": [1.0, 1.0]}]}


def run(args: argparse.Namespace) -> int:
    check_args(args)
    started = time.perf_counter()
    settings = FitSettings(kernel_size=args.kernel_size, ridge=args.ridge, smooth=args.smooth, stride=args.stride,
                           noise_size=args.noise_size)
    bounds = AlignmentBounds(max_shift=args.max_shift, max_local_error=args.max_local_error)
    fit = fit_camera(args.pairs, settings, bounds, args.min_pairs, progress=not args.no_progress)
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(out) as tmp:
        save_model(fit.model, tmp / MODEL_FILE)
        config = chain_config(out / MODEL_FILE, file_sha256(tmp / MODEL_FILE), args.pairs, fit.model.entries)
        (tmp / CHAIN_FILE).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        chain_from_dict({**config, "stages": [{**config["stages"][0], "model": str(tmp / MODEL_FILE)}]})  # it loads
        fit.report["seconds"] = round(time.perf_counter() - started, 1)
        (tmp / REPORT_FILE).write_text(json.dumps(fit.report, indent=1) + "\n", encoding="utf-8")
    s = fit.report["summary"]
    print(f"fitted {fit.model.entries} pairs (scale {fit.model.scale}): PSNR(H, L) {s['psnr_identity']['mean']:.2f} "
          f"-> fitted {s['psnr_fit']['mean']:.2f} dB"
          + (f", held out {s['psnr_held_out']['mean']:.2f} dB" if "psnr_held_out" in s else "")
          + f"; explained variance {s['explained_variance']['mean']:.4f}")
    print(f"chain {out / CHAIN_FILE}, model {out / MODEL_FILE}, report {out / REPORT_FILE} "
          f"({fit.report['seconds']:.0f} s)")
    return 0
