"""Entry point of ``degrade-stream``: one module per subcommand, each with add_arguments(parser) and run(args).

The subcommands are listed here with their one-line help, and a subcommand's module (with its torch-heavy
imports) is imported only when that subcommand is parsed: ``degrade-stream --help`` imports none of them.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from typing import Any, Sequence

#: subcommand -> (its module in degrade_stream.cli, its one-line help), in the order --help lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "configs": ("configs_cmd",
        'list the shipped named configs (degradation chains and DDPM training recipes)'),
    "train-ddpm": ("train_ddpm_cmd",
        'train a DDPM on every image under a folder of real low-quality images (runs under torchrun too)'),
    "synthesize": ("synthesize_cmd",
        'write (HQ, LQ) pairs for every image under --hq: OUT/gt/<name>.png, OUT/lq/<name>.png, '
        'OUT/pairs.jsonl; resumable; exit status 1 when some input files were skipped'),
    "evaluate": ("evaluate_cmd",
        'compare synthesized LQ with real LQ (Fréchet distance and KID of degradation statistics, '
        'image-disjoint classifier two-sample test, each with a bootstrap interval and the real-vs-real '
        'null row; optional FID) and with its HQ (PSNR/SSIM); or, with --pairs DIR --config CHAIN, '
        'chain(H) against the real L of the same scene'),
    "sweep": ("sweep_cmd",
        'for each fixed diffusion step t: synthesize pairs, measure realism against real LQ and PSNR '
        'against HQ; writes sweep.csv and sweep.png'),
    "demo": ("demo_cmd",
        'synthesize pairs from the shipped sample images (Real-ESRGAN + the bundled natural DDPM; the '
        "face with GFPGAN's and Real-ESRGAN's degradations + the bundled face DDPM) at two t each, and "
        'draw contact_sheet.png'),
    "compare-chains": ("compare_chains_cmd",
        'compare chains on real aligned pairs (DIR/gt, DIR/lq): content-matched realism of chain(HQ) '
        'against the real LQ of the same scene (paired Fréchet/KID in real units, classifier split by '
        'scene, PSNR; bootstrap CIs), and PSNR/SSIM of real LQ restored by a small restorer trained on '
        "each chain's pairs"),
    "calibrate": ("calibrate_cmd",
        "fit a chain's numeric arguments (ranges, probabilities, kernel settings) so that its LQ of your "
        "HQ images matches your real LQ images on the degradation statistics (needs the 'calibrate' "
        'extra)'),
    "fit-camera": ("fit_camera_cmd",
        "measure a camera's blur kernels, colour, sharpening and noise from aligned pairs (DIR/gt, "
        "DIR/lq) and write a 'camera' chain (YAML + safetensors) and a JSON report"),
    "import-options": ("import_options_cmd",
        'write a chain YAML from the degradation keys of a Real-ESRGAN / BasicSR options file (e.g. '
        'options/train_realesrgan_x4plus.yml), read as the reference reads them'),
}


class _Subcommands(argparse._SubParsersAction):  # argparse's own subparsers action, given as action=
    """Subparsers whose arguments come from the subcommand's module, imported when that subcommand is parsed."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        name = values[0]
        if name in COMMANDS:
            add_command_arguments(self._name_parser_map[name], name)
        super().__call__(parser, namespace, values, option_string)


def add_command_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Import subcommand ``name``'s module and give ``parser`` its arguments and run function (once)."""
    if parser.get_default("_run") is None:
        module = importlib.import_module(f"{__package__}.{COMMANDS[name][0]}")
        module.add_arguments(parser)
        parser.set_defaults(_run=module.run)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand (their arguments load when one is parsed)."""
    parser = argparse.ArgumentParser(
        prog="degrade-stream",
        description="Realistic (HQ, LQ) training pairs: handcrafted degradation refined by a DDPM "
                    "trained on real low-quality images.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"degrade-stream {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action=_Subcommands)
    for name, (_, summary) in COMMANDS.items():
        sub.add_parser(name, help=summary, description=summary)
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
