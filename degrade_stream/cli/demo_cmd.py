"""``degrade-stream demo``: pairs from the shipped sample images and a contact sheet, nothing downloaded.

Natural images (x4 super-resolution): Real-ESRGAN LQ, refined by the bundled natural model at two t
(``realesrgan_ddpm``). The face (a sample whose name holds ``face``; blind face restoration, LQ at the HQ
size): GFPGAN's degradation (``gfpgan``), Real-ESRGAN's resized back (``realesrgan_face``), and that refined
by the bundled face model at two t (``realesrgan_face_ddpm``).

The handcrafted LQ is the refining chain with t = 0 (the refiner leaves its input unchanged at t = 0), so
every refined tile of a row starts from the same degradation of the same sample with the same seed, and only
t differs. The contact sheet has one row per sample.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..core.config import chain_from_dict, resolve_config
from ..core.resources import assets_root
from .arg_checks import path_arg
from .contact_sheet import save_contact_sheet
from .fixed_step import config_at_step, parse_steps
from .output_folder import check_out_path
from .pair_writer import synthesize_pairs

NAME = "demo"
HELP = ("synthesize pairs from the shipped sample images (Real-ESRGAN + the bundled natural DDPM; the face with "
        "GFPGAN's and Real-ESRGAN's degradations + the bundled face DDPM) at two t each, and draw contact_sheet.png")
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
    out = Path(args.out)
    check_out_path(out)
    runs = _runs(steps, face_steps)
    for _, config, _, _ in runs:  # a t beyond a model's steps is refused before the first folder is written
        chain_from_dict(config)
    samples = sorted((assets_root() / "samples").glob("*.png"))
    groups = {"natural": [p for p in samples if "face" not in p.stem], "face": [p for p in samples if "face" in p.stem]}
    tiles: dict[str, list[tuple[str, Path]]] = {p.stem: [] for p in samples}
    with tempfile.TemporaryDirectory(prefix="degrade_stream_demo_") as tmp:
        inputs = {}
        for group, files in groups.items():
            inputs[group] = Path(tmp) / group
            inputs[group].mkdir()
            for path in files:
                shutil.copyfile(path, inputs[group] / path.name)
        for group, config, folder, caption in runs:
            summary = synthesize_pairs(config, inputs[group], out / folder, seed=args.seed, device=args.device,
                                       progress=False)
            print(f"{caption} ({folder}): {summary.line()}", flush=True)
            for path in groups[group]:
                if not tiles[path.stem]:
                    tiles[path.stem].append(("HQ", out / folder / "gt" / f"{path.stem}.png"))
                tiles[path.stem].append((caption, out / folder / "lq" / f"{path.stem}.png"))
    rows = [(stem, tiles[stem]) for stem in sorted(tiles, key=lambda s: ("face" in s, s))]
    sheet = save_contact_sheet(rows, out / "contact_sheet.png")
    print(f"pairs (BasicSR/mmagic layout gt/ + lq/): {', '.join(str(out / r[2]) for r in runs)}")
    print(f"contact sheet: {sheet}")
    return 0
