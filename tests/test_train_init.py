"""train-ddpm --init: a new run starts from another model's weights (fine-tuning), checked against the recipe."""
from __future__ import annotations

import torch
import yaml

from degrade_stream.diffusion.checkpoint import EMA_FILE, read_weights, resolve_checkpoint
from degrade_stream.diffusion.train_loop import RunStart, build_loop, Distributed
from degrade_stream.diffusion.train_init import init_weights
from degrade_stream.io import save_image
from diffusion_helpers import MICRO, micro_checkpoint, micro_train_config, single_thread  # noqa: F401
from reliability_helpers import run_in_process


def _recipe(tmp_path, **overrides):
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(micro_train_config(**overrides).to_dict()), encoding="utf-8")
    return path


def _images(tmp_path):
    folder = tmp_path / "lq"
    folder.mkdir()
    g = torch.Generator().manual_seed(0)
    for i in range(2):
        save_image(torch.rand(3, 24, 24, generator=g), folder / f"{i}.png")
    return folder


def test_init_loads_the_source_ema_weights_exactly_and_not_the_seed(tmp_path):
    ckpt = micro_checkpoint(tmp_path / "src", seed=3)
    config = micro_train_config()
    start = RunStart(config, init=init_weights(str(tmp_path / "src"), config))
    loop = build_loop(start, Distributed(), torch.device("cpu"), tmp_path / "out")
    want = read_weights(ckpt / EMA_FILE)
    got = loop.model.state_dict()
    assert all(torch.equal(got[k], want[k]) for k in want)
    fresh = build_loop(RunStart(config), Distributed(), torch.device("cpu"), tmp_path / "out2").model.state_dict()
    assert not all(torch.equal(fresh[k], want[k]) for k in want)  # the seed's weights differ: init did something
    assert loop.optimizer.state_dict()["state"] == {}  # a fresh optimizer


def test_train_ddpm_init_runs_from_a_checkpoint_and_writes_a_new_run(tmp_path):
    micro_checkpoint(tmp_path / "src", seed=1)
    result = run_in_process("train-ddpm", "--config", _recipe(tmp_path, steps=2, checkpoint_every=2),
                            "--lq", _images(tmp_path), "--out", tmp_path / "run", "--init", tmp_path / "src",
                            "--no-progress")
    assert result.returncode == 0, result.stderr
    assert resolve_checkpoint(tmp_path / "run").name == "step_00000002"


def test_init_with_another_architecture_names_the_file_and_the_tensor(tmp_path):
    micro_checkpoint(tmp_path / "src")
    wider = dict(MICRO.to_dict(), channels=[8, 24])
    result = run_in_process("train-ddpm", "--config", _recipe(tmp_path, model=wider), "--lq", _images(tmp_path),
                            "--out", tmp_path / "run", "--init", tmp_path / "src", "--no-progress")
    assert result.returncode != 0
    assert "ema.safetensors" in result.stderr and "wrong shapes" in result.stderr
    assert "recipe.yaml's model section" in result.stderr
    assert not (tmp_path / "run").exists()


def test_init_with_another_schedule_names_the_key(tmp_path):
    micro_checkpoint(tmp_path / "src")
    result = run_in_process("train-ddpm", "--config", _recipe(tmp_path, schedule={"kind": "cosine"}),
                            "--lq", _images(tmp_path), "--out", tmp_path / "run", "--init", tmp_path / "src",
                            "--no-progress")
    assert result.returncode != 0
    assert "config.yaml" in result.stderr and "'schedule'" in result.stderr


def test_init_and_resume_together_and_a_missing_model_are_refused(tmp_path):
    both = run_in_process("train-ddpm", "--config", _recipe(tmp_path), "--lq", _images(tmp_path), "--out",
                          tmp_path / "run", "--init", "bundled", "--resume")
    assert both.returncode != 0 and "--init" in both.stderr and "--resume" in both.stderr
    missing = run_in_process("train-ddpm", "--config", _recipe(tmp_path), "--lq", tmp_path / "lq", "--out",
                             tmp_path / "run", "--init", tmp_path / "nowhere")
    assert missing.returncode != 0 and "nowhere" in missing.stderr


def test_bundled_model_fits_the_ddpm_local_recipe():
    from degrade_stream.core.config import resolve_config
    from degrade_stream.diffusion.train_config import TrainConfig

    config = TrainConfig.from_dict(resolve_config("ddpm_local", "ddpm"))
    init = init_weights("bundled", config, "ddpm_local")
    assert init.source.name == EMA_FILE and len(init.state) > 10
