"""``degrade-stream --help`` and ``configs`` start without the heavy imports: --help loads no torch at all
(the subcommands' modules load only when one is parsed), configs none of the stages, the DDPM or the metrics.
Each runs in a fresh interpreter, since this test process has imported everything already."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "degrade_stream.diffusion", "degrade_stream.metrics", "degrade_stream.degrade",
         "degrade_stream.stream", "degrade_stream.registered_stages")


def _loaded_after(argv: list[str]) -> tuple[int, list[str]]:
    """(exit status, the HEAVY modules in sys.modules) after ``main(argv)`` in a new interpreter."""
    code = ("import contextlib, io, json, sys\n"
            "from degrade_stream.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        status = main({argv!r})\n"
            "    except SystemExit as exit:\n"
            "        status = exit.code\n"
            f"heavy = sorted({{m.split('.')[0] if m.startswith('torch') else m for m in sys.modules\n"
            f"                if any(m == h or m.startswith(h + '.') for h in {HEAVY!r})}})\n"
            "print(json.dumps([status, heavy]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    status, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    return status, heavy


def test_help_imports_no_torch_and_no_subcommand():
    status, heavy = _loaded_after(["--help"])
    assert status == 0 and heavy == []


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["configs"], ["configs", "--show", "bicubic"]])
def test_configs_imports_no_stage_model_or_metric(argv):
    status, heavy = _loaded_after(argv)
    assert status == 0 and heavy == ["torch"]  # core.config reads chains with core.chain, which uses torch


def test_a_subcommand_still_gets_its_arguments_when_parsed():
    from degrade_stream.cli.main import build_parser

    args = build_parser().parse_args(["synthesize", "--config", "bicubic", "--hq", "in", "--out", "out"])
    assert args.command == "synthesize" and args.hq == "in" and callable(args._run)


def test_every_listed_subcommand_module_defines_its_arguments_and_run():
    import importlib

    from degrade_stream.cli.main import COMMANDS

    for name, (module_name, summary) in COMMANDS.items():
        module = importlib.import_module(f"degrade_stream.cli.{module_name}")
        assert callable(module.add_arguments) and callable(module.run), name
        assert summary and not hasattr(module, "HELP"), name  # the one-line help lives in COMMANDS only
