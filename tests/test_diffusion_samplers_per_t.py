"""Refiner cost that follows t: DDIM with ``t_per_step`` (ceil(t_i / t_per_step) steps per sample), network calls
only on running samples, t = 0 free, results independent of batch-mates, t_range checked at construction."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds
from degrade_stream.diffusion.model_handle import DenoiserHandle
from degrade_stream.diffusion.sampler import plan_per_t, sample_ancestral, sample_ddim, sample_ddim_per_t, steps_per_sample
from degrade_stream.diffusion.denoiser import Denoiser
from diffusion_helpers import micro_checkpoint, single_thread  # noqa: F401  (single_thread: autouse fixture)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> str:
    return str(micro_checkpoint(tmp_path_factory.mktemp("micro")))


@pytest.fixture(scope="module")
def denoiser(ckpt) -> Denoiser:
    return DenoiserHandle(ckpt).get("cpu")


class Counting:
    """A denoiser that records the batch size and timesteps of every network call."""

    def __init__(self, inner: Denoiser) -> None:
        self.inner, self.schedule, self.calls = inner, inner.schedule, []
        self.space = inner.space

    def __call__(self, x: torch.Tensor, t_index: torch.Tensor) -> torch.Tensor:
        self.calls.append((x.shape[0], t_index.tolist()))
        return self.inner(x, t_index)


def refiner(ckpt: str, **kw) -> ds.Chain:
    return ds.load_chain({"stages": [{"type": "ddpm_refine", "checkpoint": ckpt, **kw}]})


def test_steps_per_sample_and_plan():
    t = torch.tensor([0, 1, 10, 11, 250, 30])
    assert steps_per_sample(t, 10, 25).tolist() == [0, 1, 1, 2, 25, 3]
    assert steps_per_sample(t, 10, 2).tolist() == [0, 1, 1, 2, 2, 2]
    order, running, grid = plan_per_t(torch.tensor([0, 10, 30, 7]), t_per_step=10, cap=25)
    assert order.tolist() == [2, 1, 3, 0]  # K = 3, 1, 1, 0
    assert running == [3, 1, 1]
    assert grid[:, :3].tolist() == [[30, 10, 7], [20, 0, 0], [10, 0, 0], [0, 0, 0]]
    order, running, grid = plan_per_t(torch.zeros(3, dtype=torch.long), 10, 25)
    assert running == [] and grid.shape == (1, 3) and grid.tolist() == [[0, 0, 0]]
    with pytest.raises(ValueError, match="t_per_step >= 1"):
        steps_per_sample(t, 0, 25)


def test_network_runs_only_on_running_samples(denoiser):
    x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    counting = Counting(denoiser)
    out = sample_ddim_per_t(counting, x, torch.tensor([0, 10, 25, 250]), t_per_step=10, cap=25)
    assert torch.equal(out[0], x[0])
    sizes = [n for n, _ in counting.calls]
    assert len(sizes) == 25 and sum(sizes) == 0 + 1 + 3 + 25
    assert sizes[:3] == [3, 2, 2] and set(sizes[3:]) == {1}
    assert counting.calls[0][1] == [249, 24, 9]  # each sample's first step: its own t_i (index t_i - 1)
    assert counting.calls[1][1] == [239, 16]  # t = 25, K = 3: 25 -> 17 -> 9 -> 0
    counting.calls.clear()
    sample_ancestral(counting, x, torch.tensor([0, 3, 1, 0]), lambda s: torch.zeros_like(x))
    assert [n for n, _ in counting.calls] == [1, 1, 2]  # t = 0 samples never reach the network
    counting.calls.clear()
    assert torch.equal(sample_ddim_per_t(counting, x, torch.zeros(4, dtype=torch.long), 10, 25), x)
    assert counting.calls == []


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_mixed_t_batch_equals_each_sample_alone(denoiser, eta):
    """Before 8-bit rounding, to the refiner's float bound (docs/python.md, "Per-sample seeds": CPU convolutions differ in
    the last bits with batch size): a sample's trajectory depends only on its own t, not on batch-mates or their t."""
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(5, 3, 8, 8, generator=gen) * 2 - 1
    t = torch.tensor([0, 37, 5, 120, 250])
    noise = {j: torch.randn(5, 3, 8, 8, generator=torch.Generator().manual_seed(j)) for j in range(1, 26)}

    def run(idx):
        return sample_ddim_per_t(denoiser, x[idx], t[idx], t_per_step=10, cap=25, eta=eta,
                                 noise=lambda j: noise[j][idx])

    together = run(torch.arange(5))
    assert torch.equal(together[0], x[0])
    for i in range(5):  # 2e-6 on [-1, 1] is 2.5e-4 of an 8-bit level (measured here: up to 5e-7)
        torch.testing.assert_close(together[i:i + 1], run(torch.tensor([i])), atol=2e-6, rtol=0)
    perm = torch.tensor([4, 2, 0, 3, 1])
    torch.testing.assert_close(run(perm), together[perm], atol=2e-6, rtol=0)


def test_t_per_step_one_takes_the_fixed_slot_grid(denoiser):
    """t_per_step = 1 with cap K gives each sample min(K, t_i) steps on the same grid as the fixed-slot sampler."""
    x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(2)) * 2 - 1
    t = torch.tensor([3, 40, 0, 9])
    fixed = sample_ddim(denoiser, x, t, steps=6)
    per_t = sample_ddim_per_t(denoiser, x, t, t_per_step=1, cap=6)
    torch.testing.assert_close(per_t, fixed, atol=1e-5, rtol=0)


def test_stage_with_t_per_step_equals_each_sample_alone(ckpt, hq_batch):
    chain = refiner(ckpt, t_range=[0, 250], t_per_step=10)
    x = hq_batch[:4, :, :16, :16]
    seeds = torch.tensor([5, 6, 7, 8])
    out = chain(x, seed=seeds)
    params = out.params
    params[0]["t"] = torch.tensor([0, 250, 12, 90])
    full = chain(x, params=params).lq
    assert torch.equal(full[0], x[0])
    assert (full[1:] - x[1:]).abs().mean() > 1e-3
    for i in range(4):
        alone = chain(x[i:i + 1], params=[{k: v[i:i + 1] for k, v in params[0].items()}]).lq
        # the README's refiner tolerance: one 8-bit level on rare pixels
        assert (alone - full[i:i + 1]).abs().max() <= 1 / 255 + 1e-6
        assert (alone == full[i:i + 1]).float().mean() > 0.999
    # t_range does not enter a sample's trajectory: the same params through a stage with another range
    other = refiner(ckpt, t_range=[100, 1000], t_per_step=10)
    assert torch.equal(other(x, params=params).lq, full)


@pytest.mark.parametrize("kw", [{}, {"t_per_step": 10}, {"sampler": "ddpm"}])
def test_all_t0_batch_makes_no_network_call(ckpt, hq_batch, monkeypatch, kw):
    calls = []
    real = Denoiser.__call__
    monkeypatch.setattr(Denoiser, "__call__", lambda self, x, t: calls.append(x.shape[0]) or real(self, x, t))
    chain = refiner(ckpt, t_range=[0, 0], **kw)
    x = hq_batch[:3, :, :16, :16] * 0.987
    out = chain(x, seed=torch.arange(3)).lq
    assert torch.equal(out, x) and out is not x and calls == []
    mixed = refiner(ckpt, t_range=[0, 40], steps=4, **kw)
    params = mixed(x, seed=0).params
    params[0]["t"] = torch.tensor([0, 40, 0])
    calls.clear()
    mixed(x, params=params)
    if kw:  # per-t DDIM and ancestral send only the t > 0 sample
        assert set(calls) == {1}
    else:  # fixed slots keep the batch full
        assert calls == [3] * 4


def test_t_per_step_validation_and_config(ckpt, tmp_path):
    for bad, msg in ((0, "must be >= 1, got 0"), (2.5, "expected an integer, got float 2.5"),
                     (True, "expected an integer, got bool"), ("10", "expected an integer, got str")):
        with pytest.raises(ValueError, match=rf"stages\[0\]\.t_per_step: {msg}"):
            refiner(ckpt, t_per_step=bad)
    with pytest.raises(ValueError, match=r"stages\[0\]\.t_per_step: applies to sampler 'ddim' only"):
        refiner(ckpt, sampler="ddpm", t_per_step=5)
    plain = refiner(ckpt)
    assert plain.to_config()["stages"][0]["t_per_step"] is None  # every argument is in the config
    chain = refiner(ckpt, t_per_step=10)
    assert chain.to_config()["stages"][0]["t_per_step"] == 10
    assert chain.config_hash() != plain.config_hash()
    ds.save_chain(chain, tmp_path / "c.yaml")
    assert ds.load_chain(tmp_path / "c.yaml").stages[0].t_per_step == 10


def test_t_range_above_the_model_steps_is_an_error_at_construction(ckpt):
    with pytest.raises(ValueError, match=r"^stages\[0\]\.t_range: high end 1001 exceeds the model's 1000 steps"):
        refiner(ckpt, t_range=[0, 1001])
    chain = refiner(ckpt, t_range=[0, 1000])
    assert chain.stages[0].model.loaded_devices() == []  # decided from the config file, without loading weights
    params = chain(torch.rand(2, 3, 8, 8), seed=0).params
    params[0]["t"] = torch.tensor([3, 1001])
    with pytest.raises(ValueError, match=r"params\['t'\] must lie in \[0, 1000\].*got \[3, 1001\]"):
        chain(torch.rand(2, 3, 8, 8), params=params)
