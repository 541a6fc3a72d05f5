"""Diffusing in YCbCr with scaled chroma: exact inverse, clipping to the RGB cube, recorded in the
checkpoint, used by the refiner; RGB checkpoints are unchanged."""
from __future__ import annotations

import kornia
import pytest
import torch

import degrade_stream as ds
from degrade_stream.core.errors import ConfigError
from degrade_stream.diffusion.checkpoint import export_model, read_config
from degrade_stream.diffusion.colour_space import ColourSpace
from degrade_stream.diffusion.denoiser import load_colour_space
from degrade_stream.diffusion.sampler import clip_x0
from degrade_stream.diffusion.train_loop import train
from degrade_stream.diffusion.train_config import TrainConfig
from diffusion_helpers import micro_train_config, single_thread  # noqa: F401  (autouse fixture)


def test_ycbcr_round_trip_and_chroma_scale():
    space = ColourSpace(4.0)
    x = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(0)) * 2 - 1
    u = space.to_model(x)
    assert torch.allclose(space.from_model(u), x, atol=1e-6)
    gray = torch.full((1, 3, 2, 2), 0.3)
    assert torch.allclose(space.to_model(gray), torch.tensor([0.3, 0.0, 0.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2),
                          atol=1e-6)
    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1)
    assert torch.allclose(space.to_model(red).flatten(), torch.tensor([0.299 - 0.587 - 0.114, 4 * (-0.168735892 + 0.331264108 - 0.5), 4.0]),
                          atol=1e-5)  # BT.601 rows, chroma x4
    unit = (x + 1) / 2  # kornia's YCbCr (BT.601, offset 0.5 on chroma) of [0, 1] images is the same linear map
    reference = kornia.color.rgb_to_ycbcr(unit) - 0.5
    ours = ColourSpace(1.0).to_model(x) / 2
    assert torch.allclose(ours, reference, atol=3e-4)  # kornia rounds the Cb/Cr factors to 0.564 / 0.713
    rgb = ColourSpace()
    assert rgb.to_model(x) is x and rgb.from_model(x) is x
    assert torch.equal(clip_x0(rgb, x * 3), (x * 3).clamp(-1, 1))


def test_clip_is_to_the_rgb_cube():
    space = ColourSpace(4.0)
    x = torch.tensor([1.5, -0.2, 0.4]).view(1, 3, 1, 1)
    clipped = space.from_model(clip_x0(space, space.to_model(x)))
    assert torch.allclose(clipped.flatten(), torch.tensor([1.0, -0.2, 0.4]), atol=1e-6)


def test_chroma_gain_is_validated():
    with pytest.raises(ConfigError, match="^chroma_gain: must be <= 64"):
        TrainConfig.from_dict({"chroma_gain": 100})
    with pytest.raises(ConfigError, match="^chroma_gain: expected a number"):
        TrainConfig.from_dict({"chroma_gain": "4"})
    assert TrainConfig.from_dict({"chroma_gain": None}).chroma_gain is None


@pytest.mark.slow
def test_a_chroma_gain_model_is_recorded_exported_and_refines(tmp_path, data_dir):
    run = train(micro_train_config(steps=2, checkpoint_every=2, chroma_gain=4.0), data_dir / "lq", tmp_path / "r",
                progress=False)
    assert read_config(run)["chroma_gain"] == 4.0
    exported = export_model(tmp_path / "r", tmp_path / "slim")
    assert read_config(exported)["chroma_gain"] == 4.0
    assert load_colour_space(str(exported)) == ColourSpace(4.0)
    rgb_run = train(micro_train_config(steps=2, checkpoint_every=2), data_dir / "lq", tmp_path / "rgb", progress=False)
    assert load_colour_space(str(rgb_run)) == ColourSpace()
    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    refine = {"type": "ddpm_refine", "checkpoint": str(exported), "steps": 3}
    out = ds.load_chain({"stages": [{**refine, "t_range": [40, 40]}]})(x, seed=torch.arange(3))
    assert out.lq.shape == x.shape and bool(torch.isfinite(out.lq).all()) and not torch.equal(out.lq, x)
    assert float(out.lq.min()) >= 0 and float(out.lq.max()) <= 1
    again = ds.load_chain({"stages": [{**refine, "t_range": [40, 40]}]})(x, params=out.params)
    assert torch.equal(again.lq, out.lq)
    identity = ds.load_chain({"stages": [{**refine, "t_range": [0, 0]}]})(x, seed=torch.arange(3))
    assert torch.equal(identity.lq, x)
