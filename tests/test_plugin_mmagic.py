"""mmagic plugin: the DegradeStream pipeline transform, the data preprocessor, and an mmengine Runner."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from conftest import require_framework
from degrade_stream.compat import ensure_torchvision_importable

# mmagic missing: skipped here, a failure under CI=true. An ImportError from the plugin itself always fails.
# The whole module is slow: importing its framework takes seconds (conftest skips it under -m "not slow").
pytestmark = pytest.mark.slow
require_framework("mmagic", prepare=ensure_torchvision_importable)
require_framework("mmengine")

from degrade_stream.plugins.mmagic import (DegradeStream, DegradeStreamDataPreprocessor, config_files,  # noqa: E402
                                           import_mmagic)
import degrade_stream as ds  # noqa: E402
from degrade_stream.stream.seeds import content_keys, sample_seeds

from mmagic.models import DataPreprocessor
from mmagic.registry import DATASETS, MODELS, TRANSFORMS
from mmengine.dataset import pseudo_collate

HQ = Path(__file__).parent / "data" / "hq"
CHAIN = "bicubic"  # x4 and fast on CPU
RANDOM_CHAIN = {"stages": [{"type": "classical", "scale": 4}]}


def hq_pipeline(order: str = "rgb", degrade: dict | None = None) -> list[dict]:
    steps = [dict(type="LoadImageFromFile", key="gt", color_type="color", channel_order=order),
             dict(type="Crop", keys=["gt"], crop_size=(32, 32), random_crop=False)]
    if degrade is not None:
        steps.append(degrade)
    steps.append(dict(type="PackInputs", keys=["img"], meta_keys=["key"]))
    return steps


def build_dataset(pipeline: list[dict]):
    import_mmagic()
    return DATASETS.build(dict(type="BasicImageDataset", data_root=str(HQ), data_prefix=dict(gt=""), ann_file="",
                               pipeline=pipeline))


def test_registered_in_mmagic_registries():
    import_mmagic()
    assert TRANSFORMS.get("DegradeStream") is DegradeStream
    assert MODELS.get("DegradeStreamDataPreprocessor") is DegradeStreamDataPreprocessor
    assert issubclass(DegradeStreamDataPreprocessor, DataPreprocessor)
    assert set(config_files()) == {"msrresnet_x4_degrade_stream"}


def test_transform_writes_the_chain_lq_into_img_in_the_gt_channel_order():
    transform = dict(type="DegradeStream", config=RANDOM_CHAIN, scale=4, seed=7)
    rgb = build_dataset(hq_pipeline("rgb", transform))[0]
    bgr = build_dataset(hq_pipeline("bgr", transform))[0]
    lq, gt = rgb["inputs"], rgb["data_samples"].gt_img
    assert gt.shape == (3, 32, 32) and lq.shape == (3, 8, 8) and lq.dtype == torch.uint8
    assert rgb["data_samples"].metainfo["img_channel_order"] == "rgb"
    hq = gt[None].float() / 255
    key = rgb["data_samples"].metainfo["key"]
    seeds = sample_seeds(7, 0, [f"{key}|{content_keys(hq)[0]}"])
    expected = (ds.load_chain(RANDOM_CHAIN)(hq, seed=seeds).lq[0] * 255).round().to(torch.uint8)
    assert torch.equal(lq, expected)
    assert torch.equal(bgr["inputs"], lq.flip(0))  # same pair, channels in the GT's order


@pytest.mark.parametrize("args, names", [
    (dict(config="realesrgn"), "DegradeStream.config"),
    (dict(config=CHAIN, scale=2), "DegradeStream.scale"),
])
def test_transform_bad_options_name_the_option(args, names):
    import_mmagic()
    with pytest.raises(ValueError, match=rf"^{names}:"):
        TRANSFORMS.build(dict(type="DegradeStream", **args))


@pytest.mark.parametrize("args, names", [
    (dict(config="bicubc"), "data_preprocessor.config"),
    (dict(config=CHAIN, scale=3), "data_preprocessor.scale"),
])
def test_preprocessor_bad_options_name_the_option(args, names):
    import_mmagic()
    with pytest.raises(ValueError, match=rf"^{names}:"):
        MODELS.build(dict(type="DegradeStreamDataPreprocessor", **args))


def test_preprocessor_synthesises_lq_per_sample_and_per_pass():
    dataset = build_dataset(hq_pipeline("bgr"))
    pre = MODELS.build(dict(type="DegradeStreamDataPreprocessor", config=RANDOM_CHAIN, seed=1, mean=[0, 0, 0],
                            std=[255, 255, 255], output_channel_order="RGB"))
    batch = pseudo_collate([dataset[i] for i in range(4)])
    out = pre(batch, training=True)
    assert out["inputs"].shape == (4, 3, 8, 8)
    gt_rgb = torch.stack([dataset[i]["data_samples"].gt_img for i in range(4)]).float().flip(1) / 255
    keys = [dataset[i]["data_samples"].metainfo["key"] for i in range(4)]
    chain = ds.load_chain(RANDOM_CHAIN)
    expected = chain(gt_rgb, seed=sample_seeds(1, 0, keys)).lq
    assert torch.allclose(out["inputs"], expected, atol=1e-5)
    assert torch.allclose(out["data_samples"].gt_img, gt_rgb, atol=1e-6)
    alone = pre(pseudo_collate([dataset[2]]), training=True)["inputs"]  # second pass over key 2
    assert torch.allclose(alone[0], chain(gt_rgb[2:3], seed=sample_seeds(1, 1, keys[2:3])).lq[0], atol=1e-5)
    assert not torch.allclose(alone[0], expected[2])  # a fresh LQ on the next pass


def test_mmengine_runner_trains_with_the_shipped_config_and_the_preprocessor(tmp_path):
    from degrade_stream.plugins.mmagic.train import build_runner

    pipeline = hq_pipeline("rgb")
    pipeline[1].update(random_crop=True)
    pipeline[-1].update(keys=[])
    config = tmp_path / "tiny.py"
    config.write_text(
        f"_base_ = [{str(config_files()['msrresnet_x4_degrade_stream'])!r}]\n"
        f"model = dict(generator=dict(mid_channels=8, num_blocks=1), data_preprocessor=dict(config={CHAIN!r}))\n"
        f"train_dataloader = dict(batch_size=2, num_workers=1, dataset=dict(data_root={str(HQ)!r}, "
        f"pipeline={pipeline!r}))\n"
        "train_cfg = dict(max_iters=4)\n"
        "default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4))\n"
        "log_processor = dict(window_size=1)\n")
    runner = build_runner([str(config), "--work-dir", str(tmp_path / "work")])
    pre = runner.model.data_preprocessor
    assert isinstance(pre, DegradeStreamDataPreprocessor)
    shapes = []
    forward = pre.forward

    def recording_forward(data, training=False):
        out = forward(data, training)
        shapes.append((tuple(out["inputs"].shape), tuple(out["data_samples"].gt_img.shape)))
        return out

    pre.forward = recording_forward
    runner.train()
    assert shapes == [((2, 3, 8, 8), (2, 3, 32, 32))] * 4
    losses = runner.message_hub.get_scalar("train/loss").data[0]
    assert len(losses) == 4 and all(math.isfinite(float(v)) for v in losses)
    assert (tmp_path / "work" / "iter_4.pth").is_file()


def test_the_guide_shows_the_shipped_config_verbatim():
    readme = (Path(__file__).parent.parent / "docs" / "frameworks.md").read_text(encoding="utf-8")
    assert config_files()["msrresnet_x4_degrade_stream"].read_text(encoding="utf-8") in readme
