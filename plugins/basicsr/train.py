"""Train with BasicSR on degrade_stream pairs: ``python -m degrade_stream.plugins.basicsr.train -opt options.yml``.

Like Real-ESRGAN's ``train.py``: register the plugin's types, then hand over to BasicSR's own
``train_pipeline`` (which parses ``-opt``, ``--launcher``, ``--auto_resume``, ``--debug``,
``--force_yml``). BasicSR writes ``experiments/`` and ``tb_logger/`` under the current directory.
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

from degrade_stream.plugins.basicsr import DegradeStreamDataset  # noqa: F401  (registers the types)


def main(argv: Sequence[str] | None = None, root_path: str | None = None) -> None:
    """Run ``basicsr.train.train_pipeline``; ``argv`` replaces the command-line arguments if given."""
    from basicsr.train import train_pipeline

    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    train_pipeline(os.path.abspath(root_path or os.getcwd()))


if __name__ == "__main__":
    main()
