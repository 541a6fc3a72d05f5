"""Entry point of ``degrade-stream``: one module per subcommand, each with add_parser() and run()."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

# Subcommand modules (in degrade_stream.cli); each defines NAME, HELP, add_arguments(parser), run(args) -> int.
COMMANDS = [
    "configs_cmd",
    "train_ddpm_cmd",
    "synthesize_cmd",
    "evaluate_cmd",
    "sweep_cmd",
    "demo_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="degrade-stream",
        description="Realistic (HQ, LQ) training pairs: handcrafted degradation refined by a DDPM "
                    "trained on real low-quality images.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"degrade-stream {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS:
        module = importlib.import_module(f"{__package__}.{module_name}")
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the subcommand; errors print one line and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError, TypeError) as err:
        print(f"degrade-stream {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"degrade-stream {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
