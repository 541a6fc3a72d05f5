"""The bundled face model (issue 14): shipped in the package data, addressable as ``checkpoint: bundled_face``,
refines at its recorded 128 px working size, and the face chains give LQ at the HQ size."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import degrade_stream as ds
from degrade_stream.core.resources import assets_root
from degrade_stream.diffusion.checkpoint import read_config
from degrade_stream.diffusion.denoiser import Denoiser, bundled_checkpoint, checkpoint_working_size, load_unet
from degrade_stream.diffusion.working_size import resize_to
from degrade_stream.io import load_image
from diffusion_helpers import single_thread  # noqa: F401  (autouse fixture)

ROOT = Path(__file__).resolve().parents[1]


def _face(size: int) -> torch.Tensor:
    face = load_image(assets_root() / "samples" / "mmagic_face__000001.png")[None]  # 256x256, aligned
    return torch.round(resize_to(face, size, size) * 255) / 255


def test_bundled_face_model_is_small_loads_and_records_how_it_was_made():
    folder = bundled_checkpoint("bundled_face")
    assert folder == assets_root() / "ddpm_face" and folder != bundled_checkpoint()
    assert sum(p.stat().st_size for p in folder.iterdir()) < 20 * 2 ** 20
    net, schedule = load_unet("bundled_face")
    assert schedule.timesteps == 1000 and not net.training
    assert checkpoint_working_size("bundled_face") == 128
    assert checkpoint_working_size("bundled") is None  # the natural model still refines at native size
    notes = read_config(folder)["notes"]
    assert notes["recipe"].startswith("ddpm_face") and notes["steps"] >= 2500
    assert {"data", "commands", "machine"} <= set(notes)


def test_package_data_ships_the_face_model():
    setup = (ROOT / "setup.py").read_text()
    patterns = re.search(r'"degrade_stream": \[([^]]*)\]', setup).group(1)
    assert '"assets/*/*"' in patterns  # matches assets/ddpm_face/config.yaml and ema.safetensors
    assert sorted(p.name for p in bundled_checkpoint("bundled_face").iterdir()) == ["config.yaml", "ema.safetensors"]


@pytest.mark.slow
def test_face_ddpm_chain_returns_a_512_face_at_512_refined_at_128(monkeypatch):
    shapes = []
    call = Denoiser.__call__
    monkeypatch.setattr(Denoiser, "__call__", lambda self, x, t: shapes.append(tuple(x.shape)) or call(self, x, t))
    chain = ds.load_chain("realesrgan_face_ddpm")
    assert chain.scale == 1 and chain.stages[1].to_config()["t_range"] == [0, 500]
    assert chain.stages[1].checkpoint == "bundled_face" and chain.stages[1].resolution == 128
    hq = _face(512)
    params = chain(hq, seed=torch.tensor([3])).params
    params[1] = {"t": torch.tensor([20]), "noise_seed": params[1]["noise_seed"]}
    shapes.clear()
    out = chain(hq, params=params)
    assert out.lq.shape == (1, 3, 512, 512) and torch.equal(out.lq * 255, (out.lq * 255).round())
    assert set(shapes) == {(1, 3, 128, 128)} and len(shapes) == 2  # ceil(20 / t_per_step 10) steps at 128
    handcrafted = ds.load_chain("realesrgan_face")(hq, params=params[:1]).lq
    assert handcrafted.shape == (1, 3, 512, 512)
    assert torch.equal(chain.stages[0].apply(hq, params[0]), handcrafted)  # the same degradation, then refined
    assert 0.002 < float((out.lq - handcrafted).abs().mean()) < 0.05  # t = 20 changes it a little
    assert torch.equal(chain(hq, params=params).lq, out.lq)  # replays exactly
