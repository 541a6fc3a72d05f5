"""The bundled demonstration model: shipped, small, and showing the paper's structure-vs-realism trade-off."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds
from degrade_stream.diffusion.denoiser import bundled_checkpoint, load_unet
from degrade_stream.io import list_images, load_image
from diffusion_helpers import single_thread  # noqa: F401  (autouse fixture)


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / ((a - b) ** 2).mean()))


def test_bundled_model_is_small_and_loads():
    folder = bundled_checkpoint()
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert size < 20 * 2 ** 20  # issue 11: at most 20 MB
    net, schedule = load_unet("bundled")
    assert schedule.timesteps == 1000 and not net.training


@pytest.mark.slow
def test_larger_t_loses_more_structure(data_dir):
    """Mean PSNR(x, r) over the test LQ images is lower at t = 200 than at t = 25 (Yang et al. 2023, Fig. 4)."""
    chain = ds.load_chain({"stages": [{"type": "ddpm_refine", "t_range": [25, 25], "steps": 10}]})
    crops = [load_image(p)[:, :64, :64] for p in list_images(data_dir / "lq")]
    x = torch.stack(crops)
    seeds = torch.arange(len(crops))
    mean_psnr = {}
    for t in (25, 200):
        r = chain(x, params=[{"t": torch.full((len(crops),), t), "noise_seed": seeds}]).lq
        mean_psnr[t] = sum(_psnr(x[i], r[i]) for i in range(len(crops))) / len(crops)
    assert mean_psnr[200] < mean_psnr[25] - 2.0, mean_psnr
    assert mean_psnr[25] > 25.0, mean_psnr  # small t keeps the structure


def test_realesrgan_ddpm_chain_runs_with_the_bundled_model(hq_batch):
    chain = ds.load_chain("realesrgan_ddpm")
    assert chain.stages[1].to_config()["t_range"] == [0, 250] and chain.scale == 4
    out = chain(hq_batch[:2], seed=torch.tensor([1, 2]))
    assert out.lq.shape == (2, 3, 16, 16)
    t = out.params[1]["t"]
    assert t.shape == (2,) and bool(((t >= 0) & (t <= 250)).all())
    assert torch.equal(chain(hq_batch[:2], params=out.params).lq, out.lq)
