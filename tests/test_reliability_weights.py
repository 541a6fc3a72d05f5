"""Issue 23 items 6 and 10: weights of a wrong dtype are refused naming the file and the tensor; every size of a
DDPM has an upper bound; an architecture is checked against the weights file's own header before anything is
built; a refused train-ddpm leaves no --out behind."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file

import degrade_stream as ds
from degrade_stream.diffusion import unet as unet_module
from degrade_stream.diffusion.checkpoint import CONFIG_FILE, EMA_FILE, MODEL_FILE
from degrade_stream.diffusion.denoiser import load_unet
from degrade_stream.diffusion.train_config import TrainConfig
from diffusion_helpers import micro_checkpoint, micro_train_config, single_thread  # noqa: F401
from reliability_helpers import run_in_process


@pytest.fixture
def ckpt(tmp_path) -> Path:
    return micro_checkpoint(tmp_path / "run")


@pytest.fixture
def no_build(monkeypatch):
    """Fail the test if any UNet gets built (with real memory): the checks must come first."""
    guard_builds(monkeypatch)


def guard_builds(monkeypatch) -> None:
    real = unet_module.UNet.__init__

    def guarded(self, config):
        if torch.get_default_device().type != "meta":
            raise AssertionError(f"a UNet was built before the checks: {config.channels}")
        real(self, config)

    monkeypatch.setattr(unet_module.UNet, "__init__", guarded)


@pytest.mark.parametrize("dtype", [torch.int8, torch.bool, torch.int64, torch.uint8])
def test_weights_of_a_wrong_dtype_are_refused_naming_file_and_tensor(ckpt, dtype):
    path = ckpt / EMA_FILE
    state = load_file(str(path))
    name = sorted(state)[3]
    state[name] = (state[name] * 100).to(dtype)
    save_file(state, str(path))
    with pytest.raises(ValueError, match=rf"ema.safetensors: tensor '{name}' has dtype .*weights must be floating point"):
        load_unet(str(ckpt))
    with pytest.raises(ValueError, match=rf"ema.safetensors: tensor '{name}'"):  # as a chain stage
        ds.load_chain({"stages": [{"type": "ddpm_refine", "checkpoint": str(ckpt)}]}).to("cpu")


def test_half_precision_weights_still_load(ckpt):
    path = ckpt / EMA_FILE
    save_file({k: v.half() for k, v in load_file(str(path)).items()}, str(path))
    model, _ = load_unet(str(ckpt))
    assert next(model.parameters()).dtype == torch.float32


@pytest.mark.parametrize("change, key", [
    ({"channels": [100000, 100000]}, r"model.channels\[0\]: must be <= 8192"),
    ({"channels": [8] * 12, "down_attention": [False] * 12}, "model.channels: expected a list of at most 8"),
    ({"layers_per_block": 10 ** 6}, r"model.layers_per_block: must be <= 32"),
    ({"head_dim": 0}, r"model.head_dim: must be >= 1"),
    ({"time_dim": 10 ** 9}, r"model.time_dim: must be <= "),
])
def test_absurd_architectures_in_config_yaml_are_refused_naming_file_and_key(ckpt, no_build, change, key):
    config = yaml.safe_load((ckpt / CONFIG_FILE).read_text())
    config["model"].update(change)
    (ckpt / CONFIG_FILE).write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match=rf"{CONFIG_FILE}: {key}"):
        load_unet(str(ckpt))


def test_an_architecture_the_weights_do_not_match_is_refused_before_building(ckpt, no_build):
    """Within the bounds but not what the file holds: refused from the safetensors header, nothing built."""
    config = yaml.safe_load((ckpt / CONFIG_FILE).read_text())
    config["model"]["channels"] = [8192, 8192]
    config["model"]["norm_groups"] = 4
    (ckpt / CONFIG_FILE).write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match=r"ema.safetensors: the weights do not match the architecture in .*config.yaml: "
                                         r".*wrong shapes \(stem.weight: file \(8, 3, 3, 3\) vs config \(8192, 3, 3, 3\)"):
        load_unet(str(ckpt))


@pytest.mark.slow  # saves a diffusers UNet (imports diffusers, about 4 s)
@pytest.mark.parametrize("change, key", [
    ({"block_out_channels": [100000, 100000]}, r"block_out_channels\[0\]: must be <= 8192"),
    ({"layers_per_block": 10 ** 6}, "layers_per_block: must be <= 32"),
    ({"block_out_channels": 64}, "block_out_channels: expected a list"),
    ({"norm_num_groups": "x"}, "norm_num_groups: expected an integer"),
])
def test_absurd_diffusers_config_json_is_refused_naming_file_and_key(tmp_path, no_build, change, key):
    folder = tmp_path / "m"
    _save_unet_unguarded(folder)  # diffusers builds its own model to save the folder; ours is guarded
    config = json.loads((folder / "config.json").read_text())
    config.update(change)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=rf"config.json: {key}"):
        load_unet(str(folder))


def _save_unet_unguarded(folder: Path) -> None:
    from test_diffusion_diffusers_folder import _save_unet

    _save_unet(folder)


@pytest.mark.slow  # saves a diffusers UNet (imports diffusers, about 4 s)
def test_diffusers_weights_are_checked_against_config_json_before_building(tmp_path, no_build):
    _save_unet_unguarded(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["block_out_channels"] = [4096, 8192]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"diffusion_pytorch_model.safetensors: the weights do not match the "
                                         r"architecture in .*config.json"):
        load_unet(str(tmp_path / "m"))


@pytest.mark.parametrize("key, value, message", [
    ("crop", 10 ** 6, r"crop: must be <= 4096"),
    ("batch_size", 10 ** 7, r"batch_size: must be <= 4096"),
    ("working_size", 10 ** 6, r"working_size: must be <= 8192"),
    ("steps", 10 ** 12, r"steps: must be <= 1000000000"),
    ("lr", 1e5, r"lr: must be <= 10.0"),
    ("num_workers", 10 ** 4, r"num_workers: must be <= 256"),
])
def test_training_sizes_have_upper_bounds(key, value, message):
    data = micro_train_config().to_dict()
    data[key] = value
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict(data)


def test_schedule_timesteps_have_an_upper_bound():
    data = micro_train_config().to_dict()
    data["schedule"] = {"kind": "linear", "timesteps": 10 ** 9}
    with pytest.raises(ValueError, match=r"schedule.timesteps: must be <= 100000"):
        TrainConfig.from_dict(data)


def test_train_ddpm_refuses_a_run_the_machine_cannot_hold_and_leaves_no_out(tmp_path, no_build, monkeypatch):
    """Within every bound, but the memory the run needs exceeds the machine's: refused before anything is
    built or written, naming the keys."""
    from degrade_stream.diffusion import memory

    monkeypatch.setattr(memory, "machine_memory", lambda device: 4 << 30)  # a 4 GiB machine
    recipe = micro_train_config(model={"channels": [4096, 4096, 8192], "down_attention": [False] * 3,
                                       "norm_groups": 32, "head_dim": None, "layers_per_block": 4},
                                batch_size=64, crop=512).to_dict()
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    (tmp_path / "lq").mkdir()
    from degrade_stream.io import save_image

    save_image(torch.rand(3, 32, 32), tmp_path / "lq" / "a.png")
    out = tmp_path / "run"
    result = run_in_process("train-ddpm", "--config", path, "--lq", tmp_path / "lq", "--out", out, "--device", "cpu")
    assert result.returncode == 2, result.stderr
    assert "need at least" in result.stderr and "batch_size 64 and crop 512" in result.stderr
    assert "GiB" in result.stderr and not out.exists()


def test_resume_checks_the_stored_weights_against_the_stored_config_before_building(tmp_path, monkeypatch):
    from degrade_stream.diffusion.train_loop import train

    run = tmp_path / "run"
    micro_checkpoint(run)
    guard_builds(monkeypatch)
    step = next(run.glob("step_*"))
    config = yaml.safe_load((step / CONFIG_FILE).read_text())
    config["model"]["channels"] = [16, 32]
    (step / CONFIG_FILE).write_text(yaml.safe_dump(config))
    torch.save({"step": 1, "optimizer": {}, "lr_scheduler": {}, "ema": {}, "torch_rng": torch.get_rng_state()},
               step / "state.pt")
    with pytest.raises(ValueError, match=r"model.safetensors: the weights do not match the architecture"):
        train(None, [tmp_path], run, resume=True, steps=5, device="cpu", progress=False)
