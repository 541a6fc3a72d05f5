"""Real-ESRGAN / BasicSR option files read as they are: chains from their degradation keys (option_files/), the
``options:`` stage argument, ``degrade-stream import-options``, and errors that name the key."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

import degrade_stream as ds
from degrade_stream.core import ConfigError
from degrade_stream.option_files import MAPPINGS, chain_from_options, stage_from_options
from reference_options import RELEASE
from reliability_helpers import run_in_process

OPTIONS = Path(__file__).parent / "data" / "options"
X4PLUS = OPTIONS / "train_realesrgan_x4plus.yml"

def test_x4plus_options_give_the_shipped_realesrgan_chain():
    imported = ds.load_chain(chain_from_options(X4PLUS))
    shipped = ds.load_chain("realesrgan")
    assert imported.to_config()["stages"] == shipped.to_config()["stages"]
    hq = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    seeds = torch.tensor([1, 2, 3])
    assert torch.equal(imported(hq, seed=seeds).lq, shipped(hq, seed=seeds).lq)


def test_release_options_give_the_shipped_release_chain():
    assert MAPPINGS["realesrgan_release"].detect(RELEASE)
    imported = ds.load_chain(chain_from_options(RELEASE))
    assert imported.to_config()["stages"] == ds.load_chain("realesrgan_release").to_config()["stages"]
    with pytest.raises(ConfigError, match="color_jitter_prob: only 0 is supported"):
        stage_from_options({**RELEASE, "color_jitter_prob": 0.3})


def test_realesrnet_gt_usm_decides_the_input_sharpening():
    realesrnet = yaml.safe_load((OPTIONS / "train_realesrnet_x4plus.yml").read_text())
    assert stage_from_options(realesrnet)["sharpen_input"] is True
    assert stage_from_options({**realesrnet, "gt_usm": False})["sharpen_input"] is False
    assert stage_from_options({**realesrnet, "model_type": "RealESRGANModel", "gt_usm": False})["sharpen_input"] is True


def test_kernel_list_reorders_the_weights_and_unlisted_kinds_get_zero():
    options = yaml.safe_load(X4PLUS.read_text())
    options["datasets"]["train"].update(kernel_list=["aniso", "iso"], kernel_prob=[0.3, 0.7])
    assert stage_from_options(options)["kernel_prob"] == [0.7, 0.3, 0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("where, key, closest", [
    ("", "second_blur_prb", "second_blur_prob"),
    ("datasets.train", "kernel_lst", "kernel_list"),
    ("datasets.train", "final_sinc_prop", "final_sinc_prob"),
])
def test_unknown_key_names_itself_and_the_closest_known_one(where, key, closest):
    options = yaml.safe_load(X4PLUS.read_text())
    (options["datasets"]["train"] if where else options)[key] = 0.5
    path = f"{where}.{key}" if where else key
    with pytest.raises(ConfigError, match=rf"^{path}: unknown option key '{key}'.*did you mean '{closest}'"):
        stage_from_options(options)


def test_bad_values_name_their_key():
    options = yaml.safe_load(X4PLUS.read_text())
    options["datasets"]["train"]["kernel_list"][0] = "isotropic"
    with pytest.raises(ConfigError, match=r"kernel_list: unknown kernel 'isotropic'"):
        stage_from_options(options)
    options = yaml.safe_load(X4PLUS.read_text())
    options["resize_range"] = [1.5, 0.15]
    with pytest.raises(ValueError, match=r"stages\[0\]\.resize_range: range low > high"):
        ds.load_chain(chain_from_options(options))
    with pytest.raises(ConfigError, match="high_order_degradation"):
        stage_from_options({**options, "resize_range": [0.15, 1.5], "high_order_degradation": False})
    with pytest.raises(ConfigError, match="unknown reference 'realesrgn'.*did you mean 'realesrgan'"):
        stage_from_options(options, reference="realesrgn")


def test_options_argument_in_a_chain_yaml(tmp_path):
    config = {"stages": [{"type": "realesrgan", "options": str(X4PLUS), "resize_back": True, "noise_range": [1, 5]}]}
    chain = ds.load_chain(config)
    stage = chain.to_config()["stages"][0]
    assert "options" not in stage and stage["resize_back"] is True and stage["noise_range"] == [1.0, 5.0]
    assert stage["jpeg_range2"] == [30.0, 95.0] and stage["antialias"] is False  # from the file
    ds.save_chain(chain, tmp_path / "c.yaml")  # the saved chain holds the values, not the path
    assert ds.load_chain(tmp_path / "c.yaml").to_config() == chain.to_config()
    missing = {"stages": [{"type": "realesrgan", "options": str(tmp_path / "nope.yml")}]}
    with pytest.raises(ValueError, match=r"stages\[0\]\.options: .*nope.yml.*cannot read the options file"):
        ds.load_chain(missing)


def test_import_options_command_writes_a_loadable_chain(tmp_path):
    out = tmp_path / "x4plus.yaml"
    done = run_in_process("import-options", X4PLUS, "--out", out)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "pass gt_usm=True" in text  # the x4plus losses train on the sharpened GT
    assert ds.load_chain(out).to_config()["stages"] == ds.load_chain("realesrgan").to_config()["stages"]
    again = run_in_process("import-options", X4PLUS, "--out", out)  # never replaces a file unasked
    assert again.returncode == 2 and "exists; pass --force" in again.stderr and out.read_text() == text
    bad = tmp_path / "bad.yml"
    bad.write_text("model_type: RealESRGANModel\nsecond_blur_prb: 0.5\n")
    failed = run_in_process("import-options", bad, "--out", tmp_path / "y.yaml")
    assert failed.returncode == 2 and "second_blur_prb" in failed.stderr and "second_blur_prob" in failed.stderr
    assert not (tmp_path / "y.yaml").exists()
