"""Training: the loss falls, resume is exact, checkpoints are atomic, bad data and bad configs are clear errors."""
from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file

from degrade_stream.cli.main import main
from degrade_stream.core.config import resolve_config
from degrade_stream.core.errors import ConfigError
from degrade_stream.diffusion import checkpoint as ckpt_io
from degrade_stream.diffusion.train_loop import train
from degrade_stream.diffusion.train_config import TrainConfig
from degrade_stream.diffusion.train_data import RandomCrops, StepSampler, pad_to, scan_images
from diffusion_helpers import micro_train_config, single_thread  # noqa: F401  (autouse fixture)

# DDPM training runs (a few steps each): the full suite runs them.
pytestmark = pytest.mark.slow


@pytest.fixture
def lq_dir(tmp_path, data_dir):
    """A copy of the real LQ test images plus a corrupt file and a non-image."""
    folder = tmp_path / "lq"
    shutil.copytree(data_dir / "lq", folder / "real")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.mark.slow
def test_loss_falls_within_a_few_hundred_steps(lq_dir, tmp_path):
    losses = []
    train(micro_train_config(steps=150, checkpoint_every=150, lr=3e-3), lq_dir, tmp_path / "run", progress=False,
          on_step=lambda step, loss: losses.append(loss))
    assert len(losses) == 150
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    assert last < 0.7 * first, (first, last)


@pytest.mark.slow
def test_resume_is_exact(lq_dir, tmp_path):
    config = micro_train_config(steps=20, checkpoint_every=10, ema_decay=0.9, num_workers=1)
    straight = train(config, lq_dir, tmp_path / "a", progress=False)
    with pytest.raises(ValueError, match="already at step 20"):
        train(None, lq_dir, tmp_path / "a", resume=True, progress=False)
    train(config, lq_dir, tmp_path / "b", steps=10, progress=False)
    resumed = train(None, lq_dir, tmp_path / "b", resume=True, steps=20, progress=False)
    assert resumed.name == straight.name == "step_00000020"
    for name in (ckpt_io.MODEL_FILE, ckpt_io.EMA_FILE):
        a, b = load_file(str(straight / name)), load_file(str(resumed / name))
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (name, key)
    sa, sb = ckpt_io.read_train_state(straight), ckpt_io.read_train_state(resumed)
    assert sa["step"] == sb["step"] == 20
    assert ckpt_io.read_config(resumed)["model"]["channels"] == [8, 16]


def test_existing_run_needs_resume_and_resume_needs_a_run(lq_dir, tmp_path):
    config = micro_train_config(steps=2, checkpoint_every=2)
    train(config, lq_dir, tmp_path / "run", progress=False)
    with pytest.raises(FileExistsError, match="pass --resume"):
        train(config, lq_dir, tmp_path / "run", progress=False)
    with pytest.raises(FileNotFoundError, match="no checkpoint in"):
        train(config, lq_dir, tmp_path / "empty", resume=True, progress=False)
    with pytest.raises(ValueError, match="differs from the checkpoint's config in lr"):
        train(micro_train_config(steps=2, lr=1.0), lq_dir, tmp_path / "run", resume=True, steps=4, progress=False)


def test_unreadable_files_are_skipped_and_listed(lq_dir):
    scan = scan_images(lq_dir, crop=16)
    assert len(scan.usable) == 7
    assert [p.name for p, _ in scan.skipped] == ["broken.png"]
    assert "unreadable" in scan.skipped[0][1]
    assert len(scan_images(lq_dir, crop=4096).padded) == 7  # pad mode keeps them
    with pytest.raises(ValueError, match="smaller than the 4096px crop"):
        scan_images(lq_dir, crop=4096, small_images="skip")


def test_zero_usable_images_is_a_clear_error(tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"no usable training images under .*bad\.jpg \(unreadable"):
        scan_images(tmp_path, crop=16)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match="no usable training images"):
        scan_images(empty, crop=16)  # no image files at all, even though the folder exists


def test_crops_are_a_function_of_the_sample_number(data_dir):
    files = scan_images(data_dir / "lq", crop=16).usable
    a, b = RandomCrops(files, 16, seed=1), RandomCrops(files, 16, seed=1)
    assert torch.equal(a[12345], b[12345]) and not torch.equal(a[1], a[2])
    assert a[7].shape == (3, 16, 16) and 0 <= a[7].min() and a[7].max() <= 1
    shards = [list(StepSampler(3, 5, 4, rank=r, world=2)) for r in (0, 1)]
    assert not set(shards[0]) & set(shards[1]) and len(shards[0]) == 8
    small = pad_to(torch.rand(3, 5, 3), 16)
    assert small.shape == (3, 16, 16)


def test_interrupted_checkpoint_write_leaves_nothing_that_loads(tmp_path, monkeypatch):
    state = {"w": torch.ones(2)}
    ckpt_io.write_checkpoint(tmp_path, 5, state, state, {"step": 5}, {"model": {}})

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_io.torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        ckpt_io.write_checkpoint(tmp_path, 10, state, state, {"step": 10}, {"model": {}})
    assert [p.name for p in ckpt_io.list_checkpoints(tmp_path)] == ["step_00000005"]
    assert ckpt_io.resolve_checkpoint(tmp_path).name == "step_00000005"
    assert not list(tmp_path.glob(".*tmp"))


def test_recipes_parse_and_bad_keys_are_named():
    paper = TrainConfig.from_dict(resolve_config("ddpm_paper", "ddpm"))
    assert (paper.loss, paper.optimizer, paper.lr, paper.batch_size, paper.ema_decay, paper.crop, paper.t_max) == \
        ("l1", "adam", 8e-5, 16, 0.995, 256, 1000)
    release = TrainConfig.from_dict(resolve_config("ddpm_release", "ddpm"))
    assert (release.loss, release.optimizer, release.lr_schedule, release.weight_decay, release.grad_clip,
            release.ema_decay, release.ema_warmup, release.t_max) == ("mse", "adamw", "cosine", 1e-6, 1.0, 0.9999, True, 500)
    assert release.model.channels == (128, 256, 512, 512)
    tiny = TrainConfig.from_dict(resolve_config("ddpm_tiny", "ddpm"))
    assert tiny.model.channels == (16, 32, 48, 64)
    with pytest.raises(ConfigError, match="^lr: must be >= 0.0"):
        TrainConfig.from_dict({"lr": -1})
    with pytest.raises(ConfigError, match="batchsize: unknown key.*did you mean 'batch_size'"):
        TrainConfig.from_dict({"batchsize": 4})
    with pytest.raises(ConfigError, match="crop: must be a multiple of the UNet stride 8"):
        TrainConfig.from_dict({"crop": 60})


def test_cli_errors_are_one_line(tmp_path, capsys, lq_dir):
    assert main(["train-ddpm", "--lq", str(lq_dir), "--out", str(tmp_path / "o")]) == 2
    assert "--config is required" in capsys.readouterr().err
    assert main(["train-ddpm", "--config", "ddpm_tiyn", "--lq", str(lq_dir), "--out", str(tmp_path / "o")]) == 2
    assert "did you mean 'ddpm_tiny'" in capsys.readouterr().err
    assert main(["train-ddpm", "--config", "ddpm_tiny", "--lq", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_trains_and_resumes(tmp_path, lq_dir, capsys):
    recipe = tmp_path / "micro.yaml"
    import yaml

    recipe.write_text(yaml.safe_dump(micro_train_config(steps=3, checkpoint_every=3).to_dict()))
    assert main(["train-ddpm", "--config", str(recipe), "--lq", str(lq_dir), "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 0
    assert main(["train-ddpm", "--resume", "--steps", "4", "--lq", str(lq_dir), "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 0
    assert "step_00000004" in capsys.readouterr().out
