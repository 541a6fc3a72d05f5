"""The four degradation models as chain stages: shapes, scale, per-sample choices, batch independence,
exact replay, config round trip and bad input (golden outputs: tests/test_golden_hashes.py)."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds
from degrade_stream.io import load_image

MODELS = ["bicubic", "classical", "bsrgan", "realesrgan", "realesrgan_release"]


@pytest.fixture(scope="module")
def crops(data_dir) -> torch.Tensor:
    img = load_image(data_dir / "hq" / "swinir_set5__butterfly.png")[:, :128, :128]
    return torch.stack([img, img.flip(-1)])


@pytest.mark.parametrize("name", MODELS)
def test_shape_levels_replay_and_batch_independence(name, hq_batch):
    chain = ds.load_chain(name)
    hq = torch.nn.functional.interpolate(hq_batch[:4], size=(48, 56), mode="bilinear")
    before = hq.clone()
    seeds = torch.tensor([101, 102, 103, 104])
    out = chain(hq, seed=seeds)
    assert torch.equal(hq, before)  # input untouched
    assert out.lq.shape == (4, 3, 12, 14) and out.lq.dtype == hq.dtype and chain.scale == 4
    assert out.lq.min() >= 0 and out.lq.max() <= 1
    assert torch.allclose(out.lq * 255, (out.lq * 255).round(), atol=1e-4)  # 8-bit levels
    assert torch.equal(chain(hq, params=out.params).lq, out.lq)  # exact replay
    perm = torch.tensor([2, 0, 3, 1])
    shuffled = chain(hq[perm], seed=seeds[perm]).lq
    assert torch.equal(shuffled, out.lq[perm])  # exact (test_degrade_batch_independence.py checks more)
    assert torch.equal(chain(hq[1:2], seed=seeds[1:2]).lq, out.lq[1:2])
    if name != "bicubic":
        assert not torch.equal(out.lq, chain(hq, seed=seeds + 10).lq)  # the seed matters


@pytest.mark.parametrize("name", ["bicubic", "classical", "bsrgan", "realesrgan"])
@pytest.mark.parametrize("scale", [1, 2])
def test_scale_and_resize_back(name, scale):
    hq = torch.rand(2, 3, 40, 48)
    chain = ds.load_chain({"stages": [{"type": name, "scale": scale}]})
    assert chain.scale == scale
    assert chain(hq, seed=0).lq.shape == (2, 3, 40 // scale, 48 // scale)
    back = ds.load_chain({"stages": [{"type": name, "scale": 4, "resize_back": True}]})
    assert back.scale == 1
    assert back(hq, seed=0).lq.shape == hq.shape


def test_realesrgan_choices_differ_inside_a_batch():
    chain = ds.load_chain("realesrgan")
    p = chain.stages[0].sample_params(torch.rand(64, 3, 32, 32), torch.arange(64))
    assert len(set(p["scale1"].tolist())) > 20 and len(set(p["scale2"].tolist())) > 10
    for key in ("mode1", "mode2", "mode3"):
        assert len(set(p[key].tolist())) == 3
    for flag in (p["noise1"]["gaussian"], p["noise2"]["gaussian"], p["noise1"]["gray"], p["jpeg_first"], p["blur2_on"]):
        assert 0 < int(flag.sum()) < 64
    scale1 = p["scale1"]
    assert (scale1 > 1).any() and (scale1 < 1).any() and (scale1 == 1).any()  # up, down and keep


def test_bsrgan_orders_and_noise_types_differ_inside_a_batch():
    stage = ds.load_chain("bsrgan").stages[0]
    p = stage.sample_params(torch.rand(32, 3, 64, 64), torch.arange(32))
    orders = p["order"]
    assert len({tuple(o) for o in orders.tolist()}) > 20
    pos = orders.argsort(1)
    assert (pos[:, 2] < pos[:, 3]).all()  # the free downsample always precedes the final resize
    assert set(p["noise_type"].tolist()) == {0, 1, 2}
    assert 0 < int(p["prehalve"].sum()) < 32


def test_realesrgan_release_is_milder_than_x4plus(hq_batch):
    hq = hq_batch[:8]
    seeds = torch.arange(8)
    ref = torch.nn.functional.interpolate(hq, scale_factor=0.25, mode="area")
    err = {n: (ds.load_chain(n)(hq, seed=seeds).lq - ref).pow(2).mean() for n in ("realesrgan", "realesrgan_release")}
    assert err["realesrgan_release"] < err["realesrgan"]


@pytest.mark.parametrize("name", MODELS)
def test_too_small_input_is_a_clear_error(name):
    with pytest.raises(ValueError, match="needs at least 32x32"):
        ds.load_chain(name)(torch.rand(1, 3, 20, 40), seed=0)


@pytest.mark.parametrize("name", MODELS)
def test_config_round_trip(name, tmp_path):
    chain = ds.load_chain(name)
    ds.save_chain(chain, tmp_path / "c.yaml")
    again = ds.load_chain(tmp_path / "c.yaml")
    assert again.to_config() == chain.to_config()
    hq = torch.rand(1, 3, 32, 32)
    assert torch.equal(again(hq, seed=3).lq, chain(hq, seed=3).lq)


def test_bad_config_names_the_key():
    with pytest.raises(ValueError, match=r"stages\[0\]\.resize_range"):
        ds.load_chain({"stages": [{"type": "realesrgan", "resize_range": [1.5, 0.15]}]})
    with pytest.raises(ValueError, match=r"stages\[0\]\.kernel_range"):
        ds.load_chain({"stages": [{"type": "classical", "kernel_range": [6, 20]}]})
    with pytest.raises(ValueError, match=r"stages\[0\]\.scale"):
        ds.load_chain({"stages": [{"type": "bsrgan", "scale": 0}]})


@pytest.mark.parametrize("name", MODELS)
def test_stage_pickles(name):
    import pickle
    stage = ds.load_chain(name).stages[0]
    again = pickle.loads(pickle.dumps(stage))
    assert again.to_config() == stage.to_config() and again.scale == stage.scale


@pytest.mark.parametrize("name", MODELS + ["identity"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_input_is_computed_in_float32_and_returned_in_its_dtype(name, dtype, hq_batch):
    chain = ds.load_chain(name)
    hq = hq_batch[:2].to(dtype)
    seeds = torch.tensor([5, 6])
    out = chain(hq, seed=seeds)
    ref = chain(hq.float(), seed=seeds).lq
    assert out.lq.dtype == dtype and out.hq is hq
    assert torch.equal(out.lq, ref.to(dtype))
    assert torch.equal((out.lq.float() * 255).round(), (ref * 255).round())  # every 8-bit level survives
    assert torch.equal(chain(hq, params=out.params).lq, out.lq)
    stage_out, _ = chain.stages[0](hq, seed=seeds)  # a stage called on its own does the same
    assert stage_out.dtype == dtype and torch.equal(stage_out, chain.stages[0](hq.float(), seed=seeds).output.to(dtype))


GAUSSIAN_ONLY = {"stages": [{"type": "realesrgan", "gaussian_noise_prob": 1.0, "gaussian_noise_prob2": 1.0}]}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_runs_replays_and_matches_cpu(crops):
    from degrade_stream.degrade.noise import add_gaussian_noise, normal_fields

    cuda = torch.device("cuda")
    for name in MODELS:
        chain = ds.load_chain(name, device=cuda)
        out = chain(crops.to(cuda), seed=torch.tensor([5, 6]))
        assert out.lq.device.type == "cuda" and out.lq.shape == (2, 3, 32, 32)
        assert torch.equal(chain(crops.to(cuda), params=out.params).lq, out.lq)
    cpu = ds.load_chain("bicubic")(crops, seed=0).lq
    gpu = ds.load_chain("bicubic")(crops.to(cuda), seed=0).lq.cpu()
    assert (cpu - gpu).abs().max() <= 1 / 255 + 1e-6
    # params: the same counter-based draws on both devices
    stage = ds.load_chain("realesrgan").stages[0]
    p_cpu = stage.sample_params(crops, torch.tensor([5, 6]))
    p_gpu = stage.sample_params(crops.to(cuda), torch.tensor([5, 6]))
    for key in ("scale1", "mode1", "jpeg1", "sinc_omega"):
        assert torch.equal(p_cpu[key], p_gpu[key].cpu()), key
    # Gaussian noise fields are drawn on the CPU for every device: bit-identical, and so is the noise added
    seeds = torch.tensor([5, 1 << 40])
    fields = normal_fields(seeds, (3, 40, 48), crops)
    assert torch.equal(normal_fields(seeds, (3, 40, 48), crops.to(cuda)).cpu(), fields)
    x, sigma, gray = crops[:, :, :40, :48], torch.tensor([3.0, 20.0]), torch.tensor([False, True])
    noisy = add_gaussian_noise(x, sigma, gray, seeds)
    assert torch.equal(add_gaussian_noise(x.to(cuda), sigma, gray, seeds).cpu(), noisy)
    # whole chains with Gaussian noise only: the LQ differs only by the two devices' float kernels
    for config in ("classical", "bsrgan", GAUSSIAN_ONLY):
        a = ds.load_chain(config)(crops, seed=torch.tensor([5, 6])).lq
        b = ds.load_chain(config, device=cuda)(crops.to(cuda), seed=torch.tensor([5, 6])).lq.cpu()
        assert (a - b).abs().mean() * 255 < 1.0, config
