"""The ddpm_refine stage and its samplers: identity at t = 0, per-sample independence, replay, padding,
agreement with diffusers' schedulers, the shared denoiser cache."""
from __future__ import annotations

import pickle

import pytest
import torch

import degrade_stream as ds
from degrade_stream.diffusion.model_handle import DenoiserHandle
from degrade_stream.diffusion.sampler import ancestral_step, sample_ancestral, sample_ddim
from degrade_stream.diffusion.denoiser import Denoiser, load_unet
from diffusion_helpers import micro_checkpoint, single_thread  # noqa: F401  (single_thread: autouse fixture)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> str:
    return str(micro_checkpoint(tmp_path_factory.mktemp("micro")))


@pytest.fixture(scope="module")
def denoiser(ckpt) -> Denoiser:
    return DenoiserHandle(ckpt).get("cpu")


def refiner(ckpt: str, **kw) -> ds.Chain:
    return ds.load_chain({"stages": [{"type": "ddpm_refine", "checkpoint": ckpt, **kw}]})


def test_t0_is_exact_identity(ckpt, hq_batch):
    x = hq_batch[:3, :, :16, :16] * 0.987  # values off the 8-bit grid: rounding would change them
    for sampler in ("ddim", "ddpm"):
        chain = refiner(ckpt, t_range=[0, 0], sampler=sampler)
        assert torch.equal(chain(x, seed=torch.arange(3)).lq, x)


def test_refined_output_is_8bit_in_range_and_replays(ckpt, hq_batch):
    chain = refiner(ckpt, t_range=[20, 60], steps=4)
    x = hq_batch[:4, :, :32, :32]
    out = chain(x, seed=torch.arange(4))
    p = out.params[0]
    assert p["t"].dtype == torch.int64 and p["noise_seed"].dtype == torch.int64 and p["t"].shape == (4,)
    assert bool(((p["t"] >= 20) & (p["t"] <= 60)).all())
    assert out.lq.min() >= 0 and out.lq.max() <= 1
    assert torch.equal(torch.round(out.lq * 255) / 255, out.lq)
    assert (out.lq - x).abs().mean() > 1e-3  # it does change the image
    assert torch.equal(chain(x, params=out.params).lq, out.lq)
    assert not torch.equal(chain(x, seed=torch.arange(4) + 10).lq, out.lq)


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
@pytest.mark.slow
def test_per_sample_t_in_a_batch_equals_each_sample_alone(denoiser, sampler):
    """Samples with different t in one batch: each equals its run alone. CPU convolutions may differ in
    the last float bits with batch size, so this compares before 8-bit rounding with a tight tolerance."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 8, 8, generator=gen) * 2 - 1
    t = torch.tensor([0, 37, 5, 120])
    noise = {s: torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(s)) for s in range(1, 121)}

    def run(idx):
        def nf(s):
            return noise[s][idx]
        if sampler == "ddpm":
            return sample_ancestral(denoiser, x[idx], t[idx], nf)
        return sample_ddim(denoiser, x[idx], t[idx], steps=6, eta=0.5, noise=nf)

    together = run(torch.arange(4))
    assert torch.equal(together[0], x[0])
    for i in range(4):
        alone = run(torch.tensor([i]))
        torch.testing.assert_close(together[i:i + 1], alone, atol=1e-5, rtol=0)
    # and a batch order does not matter
    perm = torch.tensor([3, 1, 0, 2])
    torch.testing.assert_close(run(perm), together[perm], atol=1e-5, rtol=0)


@pytest.mark.slow
def test_stage_result_depends_only_on_own_seed(ckpt, hq_batch):
    chain = refiner(ckpt, t_range=[0, 40], sampler="ddpm")
    x = hq_batch[:4, :, :24, :24]
    seeds = torch.tensor([11, 12, 13, 14])
    full = chain(x, seed=seeds).lq
    perm = torch.tensor([2, 0, 3, 1])
    shuffled = chain(x[perm], seed=seeds[perm]).lq
    alone = chain(x[1:2], seed=seeds[1:2]).lq
    # 8-bit rounding can flip a level where float results differ in the last bits with batch size
    assert (shuffled - full[perm]).abs().max() <= 1 / 255 + 1e-6
    assert (alone - full[1:2]).abs().max() <= 1 / 255 + 1e-6
    assert (shuffled == full[perm]).float().mean() > 0.999


@pytest.mark.slow  # imports diffusers (about 4 s)
def test_ancestral_step_matches_diffusers_ddpm_scheduler(denoiser):
    pytest.importorskip("diffusers")
    from degrade_stream.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    from diffusers import DDPMScheduler

    sched = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=True)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    for s in (1, 2, 10, 150, 700):
        with torch.inference_mode():
            eps = denoiser(x, torch.full((2,), s - 1))
        want = sched.step(eps, s - 1, x, generator=torch.Generator().manual_seed(5)).prev_sample
        z = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(5)) if s > 1 else None
        with torch.inference_mode():
            got = ancestral_step(denoiser, x, s, z)
        # At s <= 2 diffusers' float32 beta_t = 1 - abar_t / abar_{t-1} loses ~4 digits to cancellation
        # (beta_1 = 1e-4), which the division by 1 - abar_t then amplifies; we use the exact beta_t.
        tol = 1e-3 if s <= 2 else 1e-5
        torch.testing.assert_close(got, want, atol=tol, rtol=tol)


@pytest.mark.slow  # imports diffusers (about 4 s)
def test_ddim_matches_diffusers_ddim_scheduler(denoiser):
    pytest.importorskip("diffusers")
    from degrade_stream.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    from diffusers import DDIMScheduler

    # Our grid for t = 100, K = 2 is 100 -> 50 -> 0; diffusers' with 20 inference steps steps by 50.
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=True, set_alpha_to_one=True)
    sched.set_timesteps(20)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    want = x
    for step in (99, 49):
        with torch.inference_mode():
            eps = denoiser(want, torch.full((2,), step))
        want = sched.step(eps, step, want, eta=0.0, use_clipped_model_output=True).prev_sample
    got = sample_ddim(denoiser, x, torch.tensor([100, 100]), steps=2)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_sizes_not_divisible_by_the_stride_are_padded_and_cropped(ckpt, hq_batch):
    chain = refiner(ckpt, t_range=[30, 30], steps=2)
    x = hq_batch[:2, :, :13, :21]
    result = chain(x, seed=0)
    assert result.lq.shape == x.shape
    # the same as refining the reflect-padded image by hand and cropping back (same params, same noise)
    stride = chain.stages[0].denoiser("cpu").stride
    pad_h, pad_w = -13 % stride, -21 % stride
    assert pad_h and pad_w, "the test size must not be a multiple of the stride"
    padded = torch.nn.functional.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
    by_hand = chain(padded, params=result.params).lq[..., :13, :21]
    assert torch.equal(result.lq, by_hand)
    assert 0 < (result.lq - x).abs().mean() < 0.2  # refined: changed, but still the same picture


def test_each_stage_loads_its_own_model_once_and_shares_only_when_told(ckpt):
    a, b = refiner(ckpt), refiner(ckpt, t_range=[0, 10])
    assert a.stages[0].model.loaded_devices() == []  # building a chain loads no weights
    a.to("cpu")
    assert a.stages[0].model.loaded_devices() == ["cpu"] and b.stages[0].model.loaded_devices() == []
    assert a.stages[0].denoiser("cpu") is a.stages[0].denoiser("cpu")  # loaded once
    assert b.stages[0].denoiser("cpu") is not a.stages[0].denoiser("cpu")  # no process-wide cache
    c = refiner(ckpt).stages[0].share_model(a.stages[0])
    assert c.denoiser("cpu") is a.stages[0].denoiser("cpu")
    with pytest.raises(ValueError, match="cannot share"):
        refiner(ckpt, precision="bf16").stages[0].share_model(a.stages[0])


def test_stage_pickles_without_the_model_and_round_trips_yaml(ckpt, tmp_path, hq_batch):
    chain = refiner(ckpt, t_range=[5, 9], sampler="ddpm")
    chain.to("cpu")
    blob = pickle.dumps(chain)
    assert len(blob) < 4000  # the weights are not in it
    again = pickle.loads(blob)
    ds.save_chain(chain, tmp_path / "c.yaml")
    loaded = ds.load_chain(tmp_path / "c.yaml")
    assert loaded.to_config() == chain.to_config() == again.to_config()
    x = hq_batch[:2, :, :16, :16]
    assert torch.equal(loaded(x, seed=3).lq, chain(x, seed=3).lq)


def test_bad_config_errors_name_the_key(ckpt, tmp_path):
    with pytest.raises(ValueError, match=r"stages\[0\]\.checkpoint: checkpoint not found"):
        refiner(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match=r"stages\[0\]\.t_range: range low > high"):
        refiner(ckpt, t_range=[50, 10])
    with pytest.raises(ValueError, match=r"stages\[0\]\.sampler: unknown value 'dim'.*did you mean 'ddim'"):
        refiner(ckpt, sampler="dim")
    with pytest.raises(ValueError, match=r"stages\[0\]\.t_range: high end 2000 exceeds the model's 1000 steps"):
        refiner(ckpt, t_range=[0, 2000])  # at construction, from the checkpoint's config


def test_weights_that_do_not_match_the_config_are_an_error(tmp_path):
    import yaml

    folder = micro_checkpoint(tmp_path / "run")
    config = yaml.safe_load((folder / "config.yaml").read_text())
    config["model"]["channels"] = [8, 24]
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match="do not match the architecture.*wrong shapes"):
        load_unet(str(folder))
    with pytest.raises(ValueError, match="expected a .safetensors weights file beside a config.yaml"):
        load_unet(str(folder / "config.yaml"))
    config["model"]["channels"] = [8, 16]
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    net, _ = load_unet(str(folder / "model.safetensors"))  # one weights file of a checkpoint folder
    assert net.config.channels == (8, 16)
    (folder / "ema.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="ema.safetensors: missing weights file"):
        load_unet(str(folder))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(ckpt, hq_batch):
    """Same params on CPU and CUDA (fp32): the same noise (counter-based) and the same result up to float error."""
    chain = refiner(ckpt, t_range=[10, 60], steps=5, precision="fp32")
    x = hq_batch[:3, :, :16, :16]
    out = chain(x, seed=torch.arange(3))
    cuda = chain(x.cuda(), params=[{k: v.cuda() for k, v in out.params[0].items()}]).lq.cpu()
    assert (cuda - out.lq).abs().max() <= 2 / 255
    bf16 = refiner(ckpt, t_range=[10, 60], steps=5)(x.cuda(), params=[{k: v.cuda() for k, v in out.params[0].items()}])
    assert bf16.lq.is_cuda and bf16.lq.shape == x.shape
