"""Training options for small-t refinement models: t weighting, Min-SNR, grid-aligned crops and
grid-preserving augmentation, several training sources, the training log, clear data errors."""
from __future__ import annotations

import csv

import pytest
import torch

from degrade_stream.cli.main import main
from degrade_stream.core.config import resolve_config
from degrade_stream.core.errors import ConfigError
from degrade_stream.diffusion.schedule import make_schedule
from degrade_stream.diffusion.train_loop import diffusion_loss, draw_t, train
from degrade_stream.diffusion.train_config import TrainConfig
from degrade_stream.diffusion.train_data import RandomCrops, crop_offset, scan_images
from degrade_stream.diffusion.train_log import LOG_FILE
from degrade_stream.io import load_image, save_image
from diffusion_helpers import micro_train_config, single_thread  # noqa: F401  (autouse fixture)

# DDPM training runs (a few steps each): the full suite runs them.
pytestmark = pytest.mark.slow


def _grid_image(h: int, w: int) -> torch.Tensor:
    """1 on the first and last row/column of every 8x8 block (from the image origin), else 0: a
    pattern that every grid-aligned crop, flip and 90-degree rotation maps onto itself."""
    ys = torch.arange(h) % 8
    xs = torch.arange(w) % 8
    edge_y = (ys == 0) | (ys == 7)
    edge_x = (xs == 0) | (xs == 7)
    return (edge_y[:, None] | edge_x[None, :]).float().expand(3, h, w).contiguous()


def test_t_power_one_is_uniform_and_larger_powers_favour_small_t():
    g = torch.Generator().manual_seed(0)
    uniform = TrainConfig.from_dict({"t_max": 250})
    t = draw_t(uniform, 4096, g, torch.device("cpu"))
    assert torch.equal(t, torch.randint(1, 251, (4096,), generator=torch.Generator().manual_seed(0)))
    skewed = TrainConfig.from_dict({"t_max": 250, "t_power": 2.0})
    t2 = draw_t(skewed, 20000, torch.Generator().manual_seed(1), torch.device("cpu"))
    assert int(t2.min()) >= 1 and int(t2.max()) <= 250
    # E[250 u^2] = 250 / 3; P(t <= 62) = P(u <= sqrt(0.248)) ~ 0.498
    assert abs(float(t2.float().mean()) - 250 / 3) < 2.0
    assert abs(float((t2 <= 62).float().mean()) - 0.498) < 0.015


def test_min_snr_weights_each_sample_by_min_snr_over_snr():
    schedule = make_schedule()
    torch.manual_seed(0)
    x0 = torch.rand(4, 3, 8, 8) * 2 - 1
    noise = torch.randn(4, 3, 8, 8)
    t = torch.tensor([1, 50, 200, 900])

    def model(x, index):
        return x * 0.5

    plain = diffusion_loss(model, schedule, x0, t, noise, "mse")
    weighted = diffusion_loss(model, schedule, x0, t, noise, "mse", min_snr_gamma=5.0)
    x_t = schedule.q_sample(x0, t, noise)
    per = ((x_t * 0.5 - noise) ** 2).mean(dim=(1, 2, 3))
    a = schedule.alphas_cumprod[t]
    snr = a / (1 - a)
    assert torch.allclose(plain, per.mean())
    assert torch.allclose(weighted, (per * snr.clamp(max=5.0) / snr).mean())
    assert float(snr[0]) > 5 and float(snr[3]) < 5  # both sides of gamma are exercised


def test_crop_offsets_lie_on_the_grid():
    g = torch.Generator().manual_seed(3)
    offsets = {crop_offset(g, 100, 32, 8) for _ in range(400)}
    assert offsets == {0, 8, 16, 24, 32, 40, 48, 56, 64}
    assert {crop_offset(g, 35, 32, 8) for _ in range(50)} == {0}
    assert {crop_offset(g, 35, 32, 1) for _ in range(200)} == {0, 1, 2, 3}


@pytest.mark.parametrize("augment", ["hflip", "dihedral"])
def test_grid_aligned_crops_keep_the_8x8_block_grid(tmp_path, augment):
    save_image(_grid_image(75, 90), tmp_path / "grid.png")
    crops = RandomCrops([tmp_path / "grid.png"], 32, seed=0, grid=8, augment=augment)
    want = _grid_image(32, 32)
    for n in range(40):
        assert torch.equal(crops[n], want), n
    unaligned = RandomCrops([tmp_path / "grid.png"], 32, seed=0, grid=1, augment=augment)
    assert any(not torch.equal(unaligned[n], want) for n in range(40))


def test_dihedral_uses_all_eight_orientations(tmp_path):
    image = torch.rand(3, 16, 16)
    save_image(image, tmp_path / "x.png")
    crops = RandomCrops([tmp_path / "x.png"], 16, seed=0, grid=8, augment="dihedral")
    seen = {tuple(crops[n].flatten()[:6].tolist()) for n in range(200)}
    assert len(seen) == 8


def test_new_recipe_keys_are_validated_with_their_names():
    with pytest.raises(ConfigError, match="^crop: must be a multiple of crop_grid"):
        TrainConfig.from_dict({"crop": 36, "crop_grid": 8, "model": {"preset": "tiny"}})
    with pytest.raises(ConfigError, match="^augment: unknown value 'dihedrl'.*did you mean 'dihedral'"):
        TrainConfig.from_dict({"augment": "dihedrl"})
    with pytest.raises(ConfigError, match="^t_power: must be >= 0.1"):
        TrainConfig.from_dict({"t_power": 0})
    with pytest.raises(ConfigError, match="^min_snr_gamma: expected a number"):
        TrainConfig.from_dict({"min_snr_gamma": "five"})
    local = TrainConfig.from_dict(resolve_config("ddpm_local", "ddpm"))
    assert local.crop % local.crop_grid == 0 and local.crop_grid == 8
    assert local.model.down_attention == (False,) * len(local.model.channels) and not local.model.mid_attention


def test_several_sources_and_lists_are_merged_once(tmp_path, data_dir):
    from degrade_stream.io import list_images

    images = list_images(data_dir / "lq")
    listed = tmp_path / "lists" / "train.txt"
    listed.parent.mkdir()
    listed.write_text(f"# two images\n{images[0]}\n\n{images[1]}  # the second\n")
    scan = scan_images([listed, data_dir / "lq", images[0]], 16)
    assert [p.name for p in scan.usable] == [images[0].name, images[1].name] + [p.name for p in images[2:]]
    missing = tmp_path / "missing.txt"
    missing.write_text("nothere.png\n")
    with pytest.raises(FileNotFoundError, match=r"missing.txt:1: listed image .*nothere.png does not exist"):
        scan_images([missing], 16)
    other = tmp_path / "lists" / "train.csv"
    other.write_text("x\n")
    with pytest.raises(ValueError, match="neither a folder, an image file nor a .txt list"):
        scan_images([other], 16)


def test_a_folder_of_undecodable_images_is_named_before_training(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    for i in range(3):  # valid PNG headers, truncated bodies: the header scan accepts them
        data = (tmp_path / f"ok{i}.png")
        save_image(torch.rand(3, 40, 40), data)
        (folder / f"b{i}.png").write_bytes(data.read_bytes()[:120])
    out = tmp_path / "o"
    with pytest.raises(ValueError, match=f"--lq {folder}: none of the 3 image files could be decoded"):
        train(micro_train_config(), folder, out, progress=False)
    assert not out.exists()


def test_train_log_and_no_progress_lines_survive_a_resume(tmp_path, data_dir, capsys):
    import yaml

    recipe = tmp_path / "micro.yaml"
    recipe.write_text(yaml.safe_dump(micro_train_config(steps=4, checkpoint_every=2, log_every=2).to_dict()))
    lq = str(data_dir / "lq")
    out = tmp_path / "o"
    assert main(["train-ddpm", "--config", str(recipe), "--lq", lq, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "train-ddpm: step 2/4 loss" in printed and "train-ddpm: step 4/4 loss" in printed
    with (out / LOG_FILE).open("a") as f:  # as if a killed run had logged past its last checkpoint
        f.write("5,0.5,0.002,1e6\n")
    assert main(["train-ddpm", "--resume", "--steps", "6", "--lq", lq, "--out", str(out), "--no-progress"]) == 0
    with (out / LOG_FILE).open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds == sorted(seconds) and all(float(r["loss"]) > 0 for r in rows)
    assert all(float(r["lr"]) == pytest.approx(2e-3) for r in rows)


def test_resume_leaves_the_callers_rng_untouched(tmp_path, data_dir):
    config = micro_train_config(steps=2, checkpoint_every=1)
    train(config, data_dir / "lq", tmp_path / "o", steps=1, progress=False)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    train(None, data_dir / "lq", tmp_path / "o", resume=True, steps=2, progress=False)
    assert torch.equal(torch.get_rng_state(), before)


def test_working_size_crops_come_from_the_resized_image(tmp_path):
    from degrade_stream.diffusion.train_data import resize_shorter_side
    image = torch.rand(3, 64, 96)
    save_image(image, tmp_path / "face.png")
    small = resize_shorter_side(load_image(tmp_path / "face.png"), 32)
    assert small.shape == (3, 32, 48)
    crops = RandomCrops([tmp_path / "face.png"], 32, seed=3, augment="none", working_size=32)
    for n in range(10):
        crop = crops[n]
        assert crop.shape == (3, 32, 32)
        assert any(torch.equal(crop, small[:, :, x:x + 32]) for x in range(17)), n


def test_working_size_is_validated_with_its_key(tmp_path):
    with pytest.raises(ConfigError, match="^working_size: must be >= crop"):
        TrainConfig.from_dict({"crop": 64, "working_size": 32})
    with pytest.raises(ConfigError, match="^working_size: expected an integer"):
        TrainConfig.from_dict({"working_size": 1.5})
    assert TrainConfig.from_dict({"crop": 32, "working_size": 128}).working_size == 128
