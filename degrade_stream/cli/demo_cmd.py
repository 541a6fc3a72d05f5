"""``degrade-stream demo``: pairs from the shipped sample images and a contact sheet, nothing downloaded.

The handcrafted LQ is the same chain with t = 0 (the refiner leaves its input unchanged at t = 0), so
every row of the sheet starts from the same Real-ESRGAN degradation of the same sample with the
same seed, and only t differs.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..core.config import chain_from_dict, resolve_config
from ..core.resources import assets_root
from .arg_checks import path_arg
from .contact_sheet import save_contact_sheet
from .fixed_step import config_at_step, parse_steps
from .output_folder import check_out_path
from .pair_writer import synthesize_pairs

NAME = "demo"
HELP = ("synthesize pairs from the shipped sample images with Real-ESRGAN and the bundled demo DDPM at two t "
        "values, and draw contact_sheet.png")
DEMO_CHAIN = "realesrgan_ddpm"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="degrade_stream_demo", metavar="DIR", type=path_arg,
                        help="output folder (default ./degrade_stream_demo)")
    parser.add_argument("--t", default="100,250", metavar="T1,T2", help="two diffusion steps (default 100,250)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the pairs (default 0)")
    parser.add_argument("--device", default="auto", help="torch device (default: cuda if available, else cpu)")


def run(args: argparse.Namespace) -> int:
    steps = parse_steps(args.t)
    if len(steps) != 2 or 0 in steps:
        raise ValueError(f"--t: expected two distinct steps > 0, got {args.t!r}")
    samples = assets_root() / "samples"
    config = resolve_config(DEMO_CHAIN, "chains")
    out = Path(args.out)
    check_out_path(out)
    runs = [(0, "handcrafted", "handcrafted LQ (Real-ESRGAN)"),
            (steps[0], f"refined_t{steps[0]}", f"refined LQ, t = {steps[0]}"),
            (steps[1], f"refined_t{steps[1]}", f"refined LQ, t = {steps[1]}")]
    configs = {t: config_at_step(config, t) for t, _, _ in runs}
    for t in configs:  # a t beyond the model's steps is refused before the first folder is written
        chain_from_dict(configs[t])
    rows = []
    for t, folder, label in runs:
        summary = synthesize_pairs(configs[t], samples, out / folder, seed=args.seed, device=args.device,
                                   progress=False)
        print(f"{label}: {summary.line()}", flush=True)
        if not rows:
            rows.append(("HQ", sorted((out / folder / "gt").glob("*.png"))))
        rows.append((label, sorted((out / folder / "lq").glob("*.png"))))
    sheet = save_contact_sheet(rows, out / "contact_sheet.png")
    print(f"pairs (BasicSR/mmagic layout gt/ + lq/): {', '.join(str(out / r) for r in ('handcrafted', *(f'refined_t{t}' for t in steps)))}")
    print(f"contact sheet: {sheet}")
    return 0
