"""diffusers folders that are incomplete: a missing config.json is named as such, and a missing
scheduler_config.json is a warning naming the file and the schedule assumed."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import degrade_stream as ds
from conftest import require_framework
from degrade_stream.compat import ensure_torchvision_importable
from degrade_stream.diffusion.denoiser import load_unet
from degrade_stream.diffusion.diffusers_import import WEIGHT_FILES, read_diffusers_unet

# Every test builds a diffusers UNet (imports diffusers, about 4 s): the full suite runs them.
pytestmark = pytest.mark.slow


def _save_unet(folder: Path) -> None:
    """A tiny random diffusers UNet2DModel saved to ``folder`` (config.json + safetensors)."""
    require_framework("diffusers", prepare=ensure_torchvision_importable)
    from diffusers import UNet2DModel

    UNet2DModel(sample_size=16, block_out_channels=(8, 16), norm_num_groups=4, layers_per_block=1,
                down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
                attention_head_dim=8).save_pretrained(folder)


@pytest.mark.parametrize("layout", ["unet_folder", "pipeline_folder", "weights_file"])
def test_a_diffusers_folder_without_config_json_says_so(tmp_path, layout):
    unet = tmp_path / "model" / ("unet" if layout == "pipeline_folder" else "")
    unet.mkdir(parents=True, exist_ok=True)
    (unet / WEIGHT_FILES[0]).write_bytes(b"not read: the config comes first")
    spec = tmp_path / "model" / (WEIGHT_FILES[0] if layout == "weights_file" else "")
    with pytest.raises(FileNotFoundError, match=r"unet/config.json: missing|model/config.json: missing") as err:
        load_unet(str(spec))
    assert "config.yaml" not in str(err.value) and "latest" not in str(err.value)
    with pytest.raises(ValueError, match=r"stages\[0\].*config.json: missing"):  # the same through a chain config
        ds.load_chain({"stages": [{"type": "ddpm_refine", "checkpoint": str(spec)}]})


def test_a_unet_folder_without_scheduler_config_warns_and_assumes_the_linear_schedule(tmp_path):
    _save_unet(tmp_path / "unet")
    with pytest.warns(UserWarning, match=r"scheduler/scheduler_config.json not found: assuming the linear schedule "
                                         r"with T = 1000, betas 0.0001 to 0.02"):
        _, schedule, _ = read_diffusers_unet(tmp_path / "unet")
    assert schedule.kind == "linear" and schedule.timesteps == 1000


def test_a_pipeline_scheduler_config_is_read_also_beside_a_unet_folder_given_alone(tmp_path):
    _save_unet(tmp_path / "unet")
    (tmp_path / "scheduler").mkdir()
    (tmp_path / "scheduler" / "scheduler_config.json").write_text(json.dumps(
        {"_class_name": "DDPMScheduler", "beta_schedule": "squaredcos_cap_v2", "num_train_timesteps": 500}))
    for folder in (tmp_path, tmp_path / "unet"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning: the schedule is known
            _, schedule, _ = read_diffusers_unet(folder)
        assert schedule.kind == "diffusers:squaredcos_cap_v2" and schedule.timesteps == 500
    (tmp_path / "scheduler" / "scheduler_config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="scheduler_config.json: expected a JSON object"):
        read_diffusers_unet(tmp_path)
