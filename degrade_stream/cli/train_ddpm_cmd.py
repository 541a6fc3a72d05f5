"""``degrade-stream train-ddpm``: train a DDPM on a folder of real LQ images (or resume a run)."""
from __future__ import annotations

import argparse
import logging
import os
import textwrap
from pathlib import Path

from .arg_checks import path_arg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    recipes = shipped_recipes()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the recipe list's lines
    width = max((len(name) for name in recipes), default=0)
    parser.epilog = "shipped recipes (configs/ddpm; 'degrade-stream configs --show NAME' prints one):\n" + "\n".join(
        f"  {name:<{width}}  {text}" for name, text in recipes.items())
    parser.add_argument("--config", metavar="NAME|YAML", type=path_arg,
                        help=f"training recipe: a shipped name ({', '.join(recipes)}) or a YAML file; "
                             "optional with --resume (the checkpoint's config is used)")
    parser.add_argument("--lq", required=True, nargs="+", metavar="DIR", type=path_arg,
                        help="real LQ images: one or more folders (searched recursively), image files, or .txt "
                             "lists of image paths (one per line, relative to the list)")
    parser.add_argument("--out", required=True, metavar="DIR", type=path_arg, help="output folder for checkpoints")
    parser.add_argument("--steps", type=int, metavar="N", help="total number of training steps (overrides the recipe)")
    parser.add_argument("--init", metavar="MODEL",
                        help="start from this model's weights (fine-tuning; fresh optimizer and step count): "
                             "'bundled' (the natural-image model), 'bundled_face', a train-ddpm --out or step_* "
                             "folder, or a diffusers UNet folder; its architecture, schedule and chroma_gain must "
                             "be the recipe's")
    parser.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    parser.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar: print one line per log_every steps instead (always logged to "
                             "--out/train_log.csv)")


def shipped_recipes() -> dict[str, str]:
    """Every shipped DDPM recipe (configs/ddpm), name -> the first line of its description."""
    from ..core.config import named_configs, read_yaml

    recipes = {}
    for name, path in named_configs("ddpm").items():
        data = read_yaml(path)
        lines = str(data.get("description", "") if isinstance(data, dict) else "").strip().splitlines()
        recipes[name] = textwrap.shorten(lines[0], 90, placeholder=" ...") if lines else ""
    return recipes


def run(args: argparse.Namespace) -> int:
    from ..core.config import resolve_config
    from ..core.errors import ConfigError
    from ..diffusion.checkpoint import remove_stale_checkpoint_temps
    from .output_folder import check_out_path
    from .pair_writer import resolve_device
    from ..diffusion.train_loop import train
    from ..diffusion.train_config import TrainConfig

    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    config = None
    if args.config:
        data = resolve_config(args.config, "ddpm")
        try:
            config = TrainConfig.from_dict(data)
        except ConfigError as err:
            raise ValueError(f"{args.config}: {err}") from None
    elif not args.resume:
        raise ValueError("--config is required (a shipped recipe name or a YAML file) unless --resume is given")
    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    out = Path(args.out)
    check_out_path(out)
    if args.device is not None:
        resolve_device(args.device)  # an unknown or absent device is an error before any work
    if os.environ.get("RANK", "0") == "0" and out.is_dir():  # the writer's machine sees the writers' PIDs
        removed = remove_stale_checkpoint_temps(out)
        if removed:
            logging.info("removed %d unfinished checkpoint folder(s) of killed runs from %s", removed, out)
    last = train(config, args.lq, args.out, resume=args.resume, steps=args.steps, device=args.device,
                 progress=not args.no_progress, init=args.init,
                 recipe=f"--config {args.config}" if args.config else "the recipe")
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 alone reports
        print(f"checkpoint: {Path(last)}")
    return 0
