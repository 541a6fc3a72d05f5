"""Entry point of ``degrade-stream``: one module per subcommand, each with add_parser() and run()."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from typing import Sequence

# Subcommand modules (in degrade_stream.cli); each defines NAME, HELP, add_arguments(parser), run(args) -> int.
COMMANDS = [
    "configs_cmd",
    "train_ddpm_cmd",
    "synthesize_cmd",
    "evaluate_cmd",
    "sweep_cmd",
    "demo_cmd",
    "compare_chains_cmd",
    "calibrate_cmd",
    "fit_camera_cmd",
    "import_options_cmd",
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


#: Set to 1 to get the full traceback of an unexpected error (for a bug report) instead of one line.
TRACEBACK_ENV = "DEGRADE_STREAM_TRACEBACK"


#: The longest error line printed (a longer message is cut, saying how much was left out).
ERROR_LIMIT = 4000


def error_line(err: BaseException) -> str:
    """One line for an error: its message (at most ERROR_LIMIT characters), with the file an OSError names
    when the message lacks it."""
    try:
        raw = str(err)
    except Exception:  # noqa: BLE001 - a message that cannot be built must not hide the error itself
        raw = ""
    text = " ".join(raw[:ERROR_LIMIT + 1].split()) or type(err).__name__
    if len(raw) > ERROR_LIMIT:
        text = f"{text[:ERROR_LIMIT]}... ({len(raw) - ERROR_LIMIT} more characters)"
    if isinstance(err, OSError) and err.filename is not None:
        names = [str(err.filename)] + ([str(err.filename2)] if err.filename2 is not None else [])
        text = f"{' -> '.join(names)}: {err.strerror or text}"
    elif not isinstance(err, (ValueError, TypeError, OSError)):
        text = f"{type(err).__name__}: {text}"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the subcommand; any error prints one line and exits 2 (1 is reserved for
    'synthesize skipped some files'; 130 for Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"degrade-stream {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the contract is one line and exit 2, whatever went wrong
        if os.environ.get(TRACEBACK_ENV) == "1":
            traceback.print_exc()
        expected = isinstance(err, (ValueError, TypeError, OSError))
        hint = "" if expected else f" (an unexpected error: rerun with {TRACEBACK_ENV}=1 for the traceback)"
        print(f"degrade-stream {args.command}: error: {error_line(err)}{hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
