"""PairStream with a BasicSR dataset as a BasicSR user wraps one: its ``gt_path`` entries are the sample keys, so an
image's LQ follows the image and not the loader's order; a loader with no keys is told so once per stream."""
from __future__ import annotations

import logging

import pytest
import torch
from torch.utils.data import DataLoader

import degrade_stream as ds
from conftest import DATA, require_framework
from core_helpers import CHAIN
from degrade_stream.compat import alias_torchvision_functional_tensor
from degrade_stream.io import list_images, load_image, save_image


def _paired_dataset(tmp_path):
    """BasicSR's own PairedImageDataset over 64 px crops of the test images (GT and LQ folders, same names)."""
    paired = require_framework("basicsr.data.paired_image_dataset", prepare=alias_torchvision_functional_tensor)
    for folder in ("gt", "lq"):
        (tmp_path / folder).mkdir()
        for path in list_images(DATA / "hq"):
            save_image(load_image(path)[:, :64, :64], tmp_path / folder / f"{path.stem}.png")
    return paired.PairedImageDataset({"dataroot_gt": str(tmp_path / "gt"), "dataroot_lq": str(tmp_path / "lq"),
                                      "io_backend": {"type": "disk"}, "phase": "val", "scale": 1,
                                      "filename_tmpl": "{}"})


def _lq_by_key(loader, caplog) -> dict[str, torch.Tensor]:
    with caplog.at_level(logging.WARNING, logger="degrade_stream.stream"):
        with ds.PairStream(loader, CHAIN, device="cpu", seed=3, prefetch=0) as stream:
            return {k: lq for batch in stream for k, lq in zip(batch["key"], batch["lq"])}


@pytest.mark.slow
def test_basicsr_gt_path_is_the_sample_key(tmp_path, caplog):
    dataset = _paired_dataset(tmp_path)
    in_order = _lq_by_key(DataLoader(dataset, batch_size=2), caplog)
    shuffled = _lq_by_key(DataLoader(dataset, batch_size=3, shuffle=True,
                                     generator=torch.Generator().manual_seed(1)), caplog)
    assert sorted(in_order) == sorted(dataset[i]["gt_path"] for i in range(len(dataset)))
    assert all(torch.equal(in_order[k], shuffled[k]) for k in in_order)  # the image's LQ, in any order
    assert "no sample key" not in caplog.text


def test_a_keyless_loader_is_warned_about_once_per_stream(caplog):
    images = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for _ in range(2):
        _lq_by_key(DataLoader(images, batch_size=2), caplog)
    warnings = [r for r in caplog.records if "no sample key" in r.getMessage()]
    assert len(warnings) == 2  # one per stream, not one per batch
    assert "'gt_path'" in warnings[0].getMessage() and "'path'" in warnings[0].getMessage()
