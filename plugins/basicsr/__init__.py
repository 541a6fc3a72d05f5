"""BasicSR adapter: dataset types, a model type with GPU ``feed_data``, and a training entry point.

Importing this package registers ``DegradeStreamDataset``, ``DegradeStreamHQDataset`` (BasicSR's
``DATASET_REGISTRY``) and ``DegradeStreamModel`` (``MODEL_REGISTRY``), and makes BasicSR's sampler
pass the epoch on to them. Train with::

    python -m degrade_stream.plugins.basicsr.train -opt options.yml

Example options ship beside this file (``train_msrresnet_x4_dataset.yml``,
``train_msrresnet_x4_model.yml``); ``option_files()`` lists them.
"""
from __future__ import annotations

from pathlib import Path

from degrade_stream.plugins.basicsr.dataset import DegradeStreamDataset, DegradeStreamHQDataset
from degrade_stream.plugins.basicsr.epochs import forward_sampler_epochs
from degrade_stream.plugins.basicsr.model import DegradeStreamModel

forward_sampler_epochs()


def option_files() -> dict[str, Path]:
    """The shipped example options files, name -> path."""
    return {p.stem: p for p in sorted(Path(__file__).parent.glob("*.yml"))}


__all__ = ["DegradeStreamDataset", "DegradeStreamHQDataset", "DegradeStreamModel", "forward_sampler_epochs",
           "option_files"]
