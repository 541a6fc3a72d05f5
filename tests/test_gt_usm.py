"""gt_usm: the GT sharpened as Real-ESRGAN's x4plus recipe trains on it (l1_gt_usm / percep_gt_usm), from
PairStream, the BasicSR plugin's dataset and its GPU-feed model; the sharpening is BasicSR's USMSharp."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from conftest import require_framework
from degrade_stream import PairStream
from degrade_stream.compat import alias_torchvision_functional_tensor
from degrade_stream.degrade.usm import usm_sharpen
from stream_helpers import HQCrops

HQ = Path(__file__).parent / "data" / "hq"


def _batches(gt_usm: bool, crop: dict | None = None) -> list[dict]:
    loader = DataLoader(HQCrops(size=48), batch_size=4)
    with PairStream(loader, "bicubic", device="cpu", seed=2, crop=crop, gt_usm=gt_usm, prefetch=0) as stream:
        return list(stream)


def test_pair_stream_hands_out_the_sharpened_gt_beside_the_plain_one():
    plain, sharp = _batches(False), _batches(True)
    assert "gt_usm" not in plain[0]
    for a, b in zip(plain, sharp):
        assert torch.equal(a["gt"], b["gt"]) and torch.equal(a["lq"], b["lq"])
        assert torch.equal(b["gt_usm"], usm_sharpen(b["gt"]))
        assert (b["gt_usm"] - b["gt"]).abs().mean() > 1e-3


def test_pair_stream_sharpens_after_the_crop_as_real_esrgan():
    batch = _batches(True, crop={"gt_size": 32})[0]
    assert batch["gt_usm"].shape == batch["gt"].shape == (4, 3, 32, 32)
    assert torch.equal(batch["gt_usm"], usm_sharpen(batch["gt"]))  # USM of the crop (feed_data re-sharpens its crop)


def test_pair_stream_gt_usm_must_be_a_bool():
    with pytest.raises(ValueError, match="gt_usm must be true or false, got 'yes'"):
        PairStream([], "bicubic", device="cpu", gt_usm="yes")


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
def test_usm_is_basicsr_usmsharp():
    img_process = require_framework("basicsr.utils.img_process_util", prepare=alias_torchvision_functional_tensor)
    gt = _batches(True)[0]
    # two separable 51-tap passes vs BasicSR's dense 51x51 convolution: float summation order only
    assert (gt["gt_usm"] - img_process.USMSharp()(gt["gt"])).abs().max() <= 5e-6


@pytest.mark.slow  # imports BasicSR (about 6 s the first time)
def test_basicsr_dataset_and_model_train_on_the_sharpened_gt():
    require_framework("basicsr", prepare=alias_torchvision_functional_tensor)
    from degrade_stream.plugins.basicsr import DegradeStreamDataset, DegradeStreamHQDataset, DegradeStreamModel

    opt = {"name": "hq", "type": "DegradeStreamDataset", "phase": "train", "scale": 4, "dataroot_gt": str(HQ),
           "degrade_stream": "realesrgan", "gt_size": 32, "seed": 5}
    plain, sharp = DegradeStreamDataset(opt), DegradeStreamDataset({**opt, "gt_usm": True})
    for i in range(2):
        a, b = plain[i], sharp[i]
        assert torch.equal(a["lq"], b["lq"]) and torch.equal(b["gt"], usm_sharpen(a["gt"][None])[0])
    with pytest.raises(ValueError, match="gt_usm: expected true/false"):
        DegradeStreamDataset({**opt, "gt_usm": "on"})
    hq_set = DegradeStreamHQDataset({**opt, "type": "DegradeStreamHQDataset", "degrade_stream": None})
    batch = torch.utils.data.default_collate([hq_set[i] for i in range(2)])
    model_opt = {"model_type": "DegradeStreamModel", "degrade_stream": "bicubic", "scale": 4, "num_gpu": 0,
                 "is_train": False, "dist": False, "path": {"pretrain_network_g": None},
                 "network_g": {"type": "MSRResNet", "num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 1,
                               "upscale": 4}}
    model = DegradeStreamModel({**model_opt, "gt_usm": True})
    model.feed_data(batch)
    assert torch.equal(model.gt, usm_sharpen(batch["gt"]))
    assert torch.equal(model.lq, DegradeStreamModel(model_opt).chain(batch["gt"], seed=batch["seed"]).lq)
