"""``degrade-stream demo``: pairs from the shipped sample images and a contact sheet, nothing downloaded.

Natural images (x4 super-resolution): Real-ESRGAN LQ, refined by the bundled natural model at two t
(``realesrgan_ddpm``). The face (a sample whose name holds ``face``; blind face restoration, LQ at the HQ
size): GFPGAN's degradation (``gfpgan``), Real-ESRGAN's resized back (``realesrgan_face``), and that refined
by the bundled face model at two t (``realesrgan_face_ddpm``).

The handcrafted LQ is the refining chain with t = 0 (the refiner leaves its input unchanged at t = 0), so
every refined tile of a row starts from the same degradation of the same sample with the same seed, and only
t differs. The contact sheet has one row per sample. ``--hq DIR`` draws it for the user's own images instead
(``demo_inputs.py``: which rows, size limits, checks before anything is written). A failed run removes the
folders it created, so no partial demo is left.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..core.config import chain_from_dict, resolve_config
from .arg_checks import path_arg
from .contact_sheet import save_contact_sheet
from .demo_inputs import GROUPS, prepare_inputs, select_images
from .fixed_step import config_at_step, parse_steps
from .output_folder import check_out_path
from .pair_writer import synthesize_pairs

DEMO_CHAIN = "realesrgan_ddpm"
FACE_CHAIN = "realesrgan_face_ddpm"
FACE_LQ_CHAIN = "gfpgan"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="degrade_stream_demo", metavar="DIR", type=path_arg,
                        help="output folder (default ./degrade_stream_demo)")
    parser.add_argument("--t", default="100,250", metavar="T1,T2",
                        help="two diffusion steps for the natural images (default 100,250)")
    parser.add_argument("--face-t", default="100,400", metavar="T1,T2",
                        help="two diffusion steps for the face (default 100,400; faces use t <= 500)")
    parser.add_argument("--hq", metavar="DIR", type=path_arg,
                        help="your own HQ images instead of the shipped samples (a name holding 'face' makes a face "
                             "row, any other a natural x4 row)")
    parser.add_argument("--faces", action="store_true", help="with --hq: every image is an aligned face")
    parser.add_argument("--limit", type=int, default=8, metavar="N",
                        help="with --hq: the first N images by name (default 8)")
    parser.add_argument("--size", type=int, default=256, metavar="PX",
                        help="with --hq: larger images are centre-cropped to PX (faces: resized whole) so the "
                             "refiner's time stays that of the samples; 0 keeps them (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the pairs (default 0)")
    parser.add_argument("--device", default="auto", help="torch device (default: cuda if available, else cpu)")


def _two_steps(text: str, flag: str) -> list[int]:
    try:
        steps = parse_steps(text)
    except ValueError as err:
        raise ValueError(str(err).replace("--t:", f"{flag}:")) from None
    if len(steps) != 2 or 0 in steps:
        raise ValueError(f"{flag}: expected two distinct steps > 0, got {text!r}")
    return steps


def _runs(steps: list[int], face_steps: list[int]) -> list[tuple[str, dict[str, Any], str, str]]:
    """(group, chain config, output folder, caption) for every set of pairs the demo writes."""
    natural, face = resolve_config(DEMO_CHAIN, "chains"), resolve_config(FACE_CHAIN, "chains")
    runs = [("natural", config_at_step(natural, 0), "handcrafted", "Real-ESRGAN x4 LQ")]
    runs += [("natural", config_at_step(natural, t), f"refined_t{t}", f"refined, t = {t}") for t in steps]
    runs += [("face", resolve_config(FACE_LQ_CHAIN, "chains"), "face_gfpgan", "GFPGAN-style LQ"),
             ("face", config_at_step(face, 0), "face_handcrafted", "Real-ESRGAN face LQ")]
    runs += [("face", config_at_step(face, t), f"face_refined_t{t}", f"refined (face model), t = {t}")
             for t in face_steps]
    return runs


def run(args: argparse.Namespace) -> int:
    steps, face_steps = _two_steps(args.t, "--t"), _two_steps(args.face_t, "--face-t")
    if args.hq is None and args.faces:
        raise ValueError("--faces applies to --hq DIR (your own images)")
    out = Path(args.out)
    check_out_path(out)
    runs = _runs(steps, face_steps)
    min_side = {group: 1 for group in GROUPS}
    for group, config, _, _ in runs:  # a t beyond a model's steps is refused before the first folder is written
        min_side[group] = max(min_side[group], chain_from_dict(config).min_input_side)
    hq = Path(args.hq) if args.hq is not None else None
    with tempfile.TemporaryDirectory(prefix="degrade_stream_demo_") as tmp:
        names = prepare_inputs(select_images(hq, args.limit), hq, args.faces, args.size, min_side, Path(tmp))
        runs = [r for r in runs if names[r[0]]]  # a folder without faces has no face rows
        created = [out] if not out.exists() else [out / r[2] for r in runs if not (out / r[2]).exists()]
        try:
            tiles = _write_pairs(runs, names, Path(tmp), out, args)
            rows = [(name, tiles[name]) for group in GROUPS for name in sorted(names[group])]
            sheet = save_contact_sheet(rows, out / "contact_sheet.png")
        except BaseException:
            for path in created:  # only what this run created: nothing partial is left, nothing older is touched
                shutil.rmtree(path, ignore_errors=True)
            raise
    print(f"pairs (BasicSR/mmagic layout gt/ + lq/): {', '.join(str(out / r[2]) for r in runs)}")
    print(f"contact sheet: {sheet}")
    return 0


def _write_pairs(runs: list[tuple[str, dict[str, Any], str, str]], names: dict[str, list[str]], inputs: Path,
                 out: Path, args: argparse.Namespace) -> dict[str, list[tuple[str, Path]]]:
    """Synthesize every run's pairs; each sample's tiles: its HQ, then one LQ per run of its group."""
    tiles: dict[str, list[tuple[str, Path]]] = {name: [] for group in GROUPS for name in names[group]}
    for group, config, folder, caption in runs:
        summary = synthesize_pairs(config, inputs / group, out / folder, seed=args.seed, device=args.device,
                                   progress=False)
        print(f"{caption} ({folder}): {summary.line()}", flush=True)
        for name in names[group]:
            if not tiles[name]:
                tiles[name].append(("HQ", out / folder / "gt" / f"{name}.png"))
            tiles[name].append((caption, out / folder / "lq" / f"{name}.png"))
    return tiles
