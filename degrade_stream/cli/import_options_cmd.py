"""``degrade-stream import-options``: a chain YAML from a reference's training-option file (Real-ESRGAN / BasicSR)."""
from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from ..atomic import write_text_atomic
from ..core.config import load_chain
from ..option_files import MAPPINGS, chain_from_options, read_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("options", help="the options YAML (its degradation keys are read; the rest is checked)")
    parser.add_argument("--out", required=True, help="the chain YAML to write")
    parser.add_argument("--reference", choices=sorted(MAPPINGS),
                        help="whose option file it is (default: recognised from the file)")
    parser.add_argument("--name", help="the chain's name (default: the options file's name)")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:
        raise ValueError(f"--out {out} exists; pass --force to replace it")
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; expected a YAML file path")
    config = chain_from_options(args.options, args.reference, args.name)
    chain = load_chain(config)  # checks every value, as load_chain will when the file is used
    header = f"# Imported by degrade-stream import-options from {args.options}.\n"
    if _trains_on_sharpened_gt(read_options(args.options)):
        header += ("# This recipe trains on the USM-sharpened GT (gt_usm / l1_gt_usm / percep_gt_usm): pass gt_usm=True\n"
                   "# to PairStream, or gt_usm: true to DegradeStreamDataset (docs/frameworks.md, Real-ESRGAN's sharpened GT).\n")
    write_text_atomic(out, header + yaml.safe_dump(chain.to_config(), sort_keys=False))
    print(f"wrote {out}: {config['description']}")
    return 0


def _trains_on_sharpened_gt(options: dict) -> bool:
    """Whether the reference's losses see the sharpened GT (RealESRNet's gt_usm, RealESRGAN's l1/percep_gt_usm)."""
    return any(options.get(key) is True for key in ("gt_usm", "l1_gt_usm", "percep_gt_usm"))
