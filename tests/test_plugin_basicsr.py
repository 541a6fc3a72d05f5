"""BasicSR plugin: dataset types, GPU-feed model type and the train entry point (BasicSR 1.4.2)."""
from __future__ import annotations

import copy
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from conftest import require_framework
from degrade_stream.compat import alias_torchvision_functional_tensor

# BasicSR missing: skipped here, a failure under CI=true. An ImportError from the plugin itself always fails.
# The whole module is slow: importing its framework takes seconds (conftest skips it under -m "not slow").
pytestmark = pytest.mark.slow
require_framework("basicsr", prepare=alias_torchvision_functional_tensor)

import degrade_stream as ds  # noqa: E402
from degrade_stream.plugins.basicsr import (DegradeStreamDataset, DegradeStreamHQDataset, DegradeStreamModel,
                                            option_files)
from degrade_stream.stream.seeds import sample_seeds

from basicsr.data.data_sampler import EnlargedSampler
from basicsr.utils.registry import DATASET_REGISTRY, MODEL_REGISTRY

HQ = Path(__file__).parent / "data" / "hq"
CHAIN = "bicubic"  # x4 and fast on CPU
RANDOM_CHAIN = {"stages": [{"type": "classical", "scale": 4}]}  # x4, with random blur/noise/JPEG


def dataset_opt(**changes) -> dict:
    opt = {"name": "hq", "type": "DegradeStreamDataset", "phase": "train", "scale": 4, "dataroot_gt": str(HQ),
           "degrade_stream": CHAIN, "gt_size": 32, "use_hflip": True, "use_rot": True, "seed": 5}
    opt.update(changes)
    return {k: v for k, v in opt.items() if v is not None}


def model_opt(**changes) -> dict:
    opt = {"model_type": "DegradeStreamModel", "degrade_stream": CHAIN, "scale": 4, "num_gpu": 0, "is_train": False,
           "dist": False, "network_g": {"type": "MSRResNet", "num_in_ch": 3, "num_out_ch": 3, "num_feat": 8,
                                        "num_block": 1, "upscale": 4},
           "path": {"pretrain_network_g": None}}
    opt.update(changes)
    return opt


def test_types_are_registered_and_shipped_options_match_them():
    assert DATASET_REGISTRY.get("DegradeStreamDataset") is DegradeStreamDataset
    assert DATASET_REGISTRY.get("DegradeStreamHQDataset") is DegradeStreamHQDataset
    assert MODEL_REGISTRY.get("DegradeStreamModel") is DegradeStreamModel
    files = option_files()
    assert set(files) == {"train_msrresnet_x4_dataset", "train_msrresnet_x4_model", "train_face_restorer_gfpgan_model"}
    for path in files.values():
        opt = yaml.safe_load(path.read_text())
        train = opt["datasets"]["train"]
        chain_name = train.get("degrade_stream", opt.get("degrade_stream"))
        network_scale = opt["network_g"].get("upscale", opt["network_g"].get("scale"))  # MSRResNet / RRDBNet
        assert ds.load_chain(chain_name).scale == opt["scale"] == network_scale
        assert DATASET_REGISTRY.get(train["type"]) and MODEL_REGISTRY.get(opt["model_type"])


def test_dataset_returns_basicsr_pairs_made_by_the_chain_from_the_sample_seed():
    dataset = DegradeStreamDataset(dataset_opt())
    chain = ds.load_chain(CHAIN)
    assert len(dataset) == 5
    item = dataset[1]
    assert set(item) == {"lq", "gt", "lq_path", "gt_path"}
    assert item["gt"].shape == (3, 32, 32) and item["lq"].shape == (3, 8, 8)
    assert item["gt"].dtype == item["lq"].dtype == torch.float32
    assert 0 <= float(item["lq"].min()) and float(item["lq"].max()) <= 1
    key = Path(item["gt_path"]).relative_to(HQ).as_posix()
    expected = chain(item["gt"][None], seed=sample_seeds(5, 0, [key])).lq[0]
    assert torch.equal(item["lq"], expected)
    assert torch.equal(dataset[1]["gt"], item["gt"]) and torch.equal(dataset[1]["lq"], item["lq"])
    dataset.set_epoch(1)
    assert not torch.equal(dataset[1]["gt"], item["gt"])  # a fresh crop every epoch


def test_workers_see_the_epoch_set_through_basicsr_sampler(tmp_path):
    dataset = DegradeStreamDataset(dataset_opt())
    sampler = EnlargedSampler(dataset, num_replicas=1, rank=0, ratio=1)
    loader = torch.utils.data.DataLoader(dataset, batch_size=5, sampler=sampler, num_workers=2,
                                         persistent_workers=True)
    for epoch in (0, 3):
        sampler.set_epoch(epoch)  # forwarded to dataset.set_epoch by the plugin
        batch = next(iter(loader))
        assert dataset.epoch == epoch
        for gt, lq, path in zip(batch["gt"], batch["lq"], batch["gt_path"]):
            index = [str(p) for p, _ in dataset.files].index(path)
            alone = dataset[index]
            assert torch.equal(gt, alone["gt"]) and torch.equal(lq, alone["lq"])


def test_cache_dir_keeps_variants_and_serves_them_again(tmp_path):
    dataset = DegradeStreamDataset(dataset_opt(cache_dir=str(tmp_path / "cache"), variants=2, gt_size=None,
                                                degrade_stream=RANDOM_CHAIN))
    first = dataset[0]
    assert first["gt"].shape[-2:] == tuple(4 * s for s in first["lq"].shape[-2:])  # GT = scale x LQ, whole image
    stats = dataset._cache.stats()
    assert (stats["misses"], stats["hits"]) == (1, 0)
    assert torch.equal(dataset[0]["lq"], first["lq"]) and dataset._cache.stats()["hits"] == 1
    lqs = []
    for epoch in range(4):  # two variants: epochs 0-1 make both, 2-3 read them back
        dataset.set_epoch(epoch)
        lqs.append(dataset[0]["lq"])
    assert len(list((tmp_path / "cache").rglob("*.lq"))) == 2
    assert dataset._cache.stats()["misses"] == 2
    assert sorted(torch.equal(lqs[0], x) for x in lqs[2:]) == [False, True]


@pytest.mark.parametrize("changes, names", [
    ({"dataroot_gt": None}, "datasets.train.dataroot_gt"),
    ({"dataroot_gt": "/no/such/folder"}, "datasets.train.dataroot_gt"),
    ({"degrade_stream": "realesrgn"}, "datasets.train.degrade_stream"),
    ({"degrade_stream": None}, "datasets.train.degrade_stream"),
    ({"scale": 2}, "scale"),
    ({"gt_size": 30}, "datasets.train.gt_size"),
    ({"variants": 3}, "datasets.train.variants"),
    ({"dataroot_lq": str(HQ)}, "datasets.train.dataroot_lq"),
])
def test_bad_dataset_options_fail_at_construction_naming_the_option(changes, names):
    with pytest.raises(ValueError) as err:
        DegradeStreamDataset(dataset_opt(**changes))
    assert str(err.value).startswith(names + ":")
    if changes.get("degrade_stream") == "realesrgn":
        assert "did you mean 'realesrgan'" in str(err.value)


@pytest.mark.parametrize("changes, names", [({"degrade_stream": "bicubc"}, "degrade_stream"), ({"scale": 2}, "scale")])
def test_bad_model_options_fail_at_construction_naming_the_option(changes, names):
    with pytest.raises(ValueError, match=rf"^{names}:"):
        DegradeStreamModel(model_opt(**changes))


def test_model_feed_data_makes_each_sample_lq_from_its_own_seed():
    dataset = DegradeStreamHQDataset(dataset_opt(type="DegradeStreamHQDataset", degrade_stream=None))
    model = DegradeStreamModel(model_opt())
    batch = torch.utils.data.default_collate([dataset[i] for i in range(4)])
    assert set(batch) == {"gt", "gt_path", "seed"} and batch["gt"].shape == (4, 3, 32, 32)
    model.feed_data(batch)
    assert model.lq.shape == (4, 3, 8, 8) and torch.equal(model.gt, batch["gt"])
    chain = ds.load_chain(CHAIN)
    assert torch.equal(model.lq, chain(batch["gt"], seed=batch["seed"]).lq)
    single = torch.utils.data.default_collate([dataset[2]])
    model.feed_data(single)
    assert torch.equal(model.lq[0], chain(batch["gt"], seed=batch["seed"]).lq[2])  # batch-independent
    paired = {"lq": torch.rand(1, 3, 8, 8), "gt": torch.rand(1, 3, 32, 32)}
    model.feed_data(paired)  # validation batches keep their LQ
    assert torch.equal(model.lq, paired["lq"])
    with pytest.raises(KeyError, match="DegradeStreamHQDataset"):
        model.feed_data({"gt": batch["gt"]})


def _tiny_options(shipped: str, name: str) -> dict:
    opt = yaml.safe_load(option_files()[shipped].read_text())
    opt = copy.deepcopy(opt)
    opt.update(name=name, num_gpu=0, manual_seed=3)
    if "degrade_stream" in opt:
        opt["degrade_stream"] = CHAIN
    train = opt["datasets"]["train"]
    train.update(dataroot_gt=str(HQ), gt_size=32, batch_size_per_gpu=4, num_worker_per_gpu=1,
                 dataset_enlarge_ratio=4)  # 20 samples: 5 full batches per epoch
    if "degrade_stream" in train:
        train["degrade_stream"] = CHAIN
    opt["network_g"].update(num_feat=8, num_block=2)
    opt["train"].update(total_iter=10)
    opt["train"]["scheduler"].update(periods=[10], restart_weights=[1])
    opt["logger"].update(print_freq=1, save_checkpoint_freq=1000)
    return opt


@pytest.mark.parametrize("shipped", ["train_msrresnet_x4_dataset", "train_msrresnet_x4_model"])
@pytest.mark.slow
def test_basicsr_train_pipeline_runs_ten_iterations_and_saves_a_loadable_network(tmp_path, shipped):
    opt = _tiny_options(shipped, f"tiny_{shipped}")
    options = tmp_path / "options.yml"
    options.write_text(yaml.safe_dump(opt))
    run = subprocess.run([sys.executable, "-m", "degrade_stream.plugins.basicsr.train", "-opt", str(options)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    experiment = tmp_path / "experiments" / opt["name"]
    log = next(experiment.glob("train_*.log")).read_text()
    losses = [float(v) for v in re.findall(r"l_pix: ([0-9.e+-]+)", log)]
    iters = [int(v) for v in re.findall(r"iter:\s+(\d+),", log)]
    assert iters == list(range(1, 11)) and len(losses) == 10
    assert all(math.isfinite(v) for v in losses)
    from basicsr.archs.srresnet_arch import MSRResNet

    saved = torch.load(experiment / "models" / "net_g_latest.pth", map_location="cpu", weights_only=True)
    net = MSRResNet(**{k: v for k, v in opt["network_g"].items() if k != "type"})
    net.load_state_dict(saved["params"])
    assert net(torch.rand(1, 3, 8, 8)).shape == (1, 3, 32, 32)


def test_the_guide_shows_the_shipped_options_file_verbatim():
    readme = (Path(__file__).parent.parent / "docs" / "frameworks.md").read_text(encoding="utf-8")
    assert option_files()["train_msrresnet_x4_dataset"].read_text(encoding="utf-8") in readme


def test_the_readme_dataset_fragment_builds_paired_image_dataset_items():
    """The README's BasicSR options fragment, as shown (its HQ folder pointed at the test images; phase and scale are
    what BasicSR's options parser adds from the file's top level), gives PairedImageDataset's keys."""
    from test_readme_examples import fenced_blocks

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    fragments = [code for _, _, code in fenced_blocks(readme, "yaml") if "DegradeStreamDataset" in code]
    assert len(fragments) == 1, fragments
    opt = yaml.safe_load(fragments[0])["datasets"]["train"]
    assert DATASET_REGISTRY.get(opt["type"]) is DegradeStreamDataset
    dataset = DegradeStreamDataset({**opt, "dataroot_gt": str(HQ), "phase": "train", "scale": 4})
    item = dataset[0]
    assert set(item) >= {"lq", "gt", "lq_path", "gt_path"}
    assert item["gt"].shape == (3, opt["gt_size"], opt["gt_size"])
    assert item["lq"].shape == (3, opt["gt_size"] // 4, opt["gt_size"] // 4)
