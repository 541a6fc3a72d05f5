"""``degrade-stream configs``: list the shipped named configs, one line each."""
from __future__ import annotations

import argparse

from ..core.config import named_configs, read_yaml
from ..core.errors import closest


KINDS = {"chains": "degradation chains (load_chain NAME, --config NAME)",
         "ddpm": "DDPM training recipes (train-ddpm --config NAME)"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--show", metavar="NAME", help="print one config's YAML instead of the list")


def run(args: argparse.Namespace) -> int:
    if args.show:
        for kind in KINDS:
            path = named_configs(kind).get(args.show)
            if path:
                print(path.read_text(encoding="utf-8"), end="")
                return 0
        names = [name for kind in KINDS for name in named_configs(kind)]
        raise ValueError(f"no shipped config named {args.show!r}{closest(args.show, names)}; "
                         "run 'degrade-stream configs' for the list")
    for kind, title in KINDS.items():
        configs = named_configs(kind)
        print(f"{title}:")
        width = max((len(n) for n in configs), default=0)
        for name, path in configs.items():
            data = read_yaml(path) or {}
            description = str(data.get("description", "")).strip().splitlines()
            print(f"  {name:<{width}}  {description[0] if description else ''}")
        if not configs:
            print("  (none)")
    return 0
