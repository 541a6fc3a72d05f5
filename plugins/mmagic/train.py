"""Train with mmagic/mmengine on degrade_stream pairs:
``python -m degrade_stream.plugins.mmagic.train CONFIG [--work-dir DIR] [--cfg-options k=v ...]``.

A small stand-in for mmagic's ``tools/train.py`` (not part of its pip package): load the config,
register the plugin, build an mmengine ``Runner`` and train.
"""
from __future__ import annotations

import argparse
import os
from typing import Sequence

from degrade_stream.plugins.mmagic import import_mmagic


def build_runner(argv: Sequence[str] | None = None):
    """The mmengine ``Runner`` for the command line ``argv`` (default: ``sys.argv[1:]``), not yet trained."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="an mmagic config file (.py)")
    parser.add_argument("--work-dir", help="where logs and checkpoints go (default: the config's work_dir, "
                                           "else ./work_dirs/<config name>)")
    parser.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override config entries, e.g. train_cfg.max_iters=1000")
    args = parser.parse_args(argv)
    import_mmagic()
    from mmengine.config import Config, DictAction
    from mmengine.runner import Runner

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        overrides = argparse.Namespace()
        DictAction(option_strings=[], dest="options")(None, overrides, args.cfg_options)
        cfg.merge_from_dict(overrides.options)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get("work_dir") is None:
        cfg.work_dir = os.path.join("work_dirs", os.path.splitext(os.path.basename(args.config))[0])
    return Runner.from_cfg(cfg)


def main(argv: Sequence[str] | None = None) -> None:
    build_runner(argv).train()


if __name__ == "__main__":
    main()
