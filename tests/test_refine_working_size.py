"""ddpm_refine at a working resolution (issue 14): a face comes back at its input size, the network sees the
working size, ``working_size: null`` (and ``model`` for a checkpoint without one) is bit-identical to the
native path, the input's detail x - up(down(x)) is added back, and batch independence, determinism, replay and the
RNG contract still hold."""
from __future__ import annotations

import pytest
import torch
import yaml

import degrade_stream as ds
from degrade_stream.core.errors import ConfigError
from degrade_stream.core.random import SampleRandom
from degrade_stream.diffusion.model_handle import DenoiserHandle
from degrade_stream.diffusion.checkpoint import write_checkpoint
from degrade_stream.diffusion.sampler import sample_ddim_per_t
from degrade_stream.diffusion.denoiser import Denoiser, checkpoint_working_size
from degrade_stream.diffusion.refine import pad_to_multiple, quantize8
from degrade_stream.diffusion.unet import UNet
from degrade_stream.diffusion.working_size import resize_shorter_side, resize_to, working_shape
from diffusion_helpers import MICRO, micro_train_config, single_thread  # noqa: F401  (single_thread: autouse fixture)

WORK = 32


def _checkpoint(folder, working_size) -> str:
    torch.manual_seed(0)
    model = UNet(MICRO)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    config = micro_train_config(working_size=working_size).to_dict()
    return str(write_checkpoint(folder, 1, model.state_dict(), model.state_dict(), None, config))


@pytest.fixture(scope="module")
def face_ckpt(tmp_path_factory) -> str:
    """A micro checkpoint trained (nominally) at working_size 32."""
    return _checkpoint(tmp_path_factory.mktemp("face"), WORK)


@pytest.fixture(scope="module")
def native_ckpt(tmp_path_factory) -> str:
    return _checkpoint(tmp_path_factory.mktemp("native"), None)


def refiner(ckpt: str, **kw) -> ds.Chain:
    stage = {"type": "ddpm_refine", "checkpoint": ckpt, "t_per_step": 10, "steps": 8, **kw}
    return ds.load_chain({"stages": [stage]})


def faces(n: int, size: int = 128, seed: int = 0) -> torch.Tensor:
    """Smooth random images (low-frequency content plus a little detail), 8-bit levels."""
    gen = torch.Generator().manual_seed(seed)
    low = torch.nn.functional.interpolate(torch.rand(n, 3, 8, 8, generator=gen), size=(size, size), mode="bicubic")
    x = (0.25 + 0.5 * low.clamp(0, 1) + 0.05 * torch.rand(n, 3, size, size, generator=gen)).clamp(0, 1)
    return torch.round(x * 255) / 255


def test_working_shape_and_resize_match_the_training_rule():
    assert working_shape(512, 512, 128) == (128, 128)
    assert working_shape(512, 1024, 128) == (128, 256)
    assert working_shape(300, 200, 128) == (192, 128)
    assert working_shape(100, 100, 128) == (128, 128)  # small images go up to the working size
    assert working_shape(128, 300, 128) == (128, 300)
    x = faces(1, 64)[0]
    assert resize_shorter_side(x, 64) is x  # already at the working size: untouched
    small = resize_shorter_side(x, 16)
    expected = torch.nn.functional.interpolate(x[None], size=(16, 16), mode="bicubic", antialias=True,
                                               align_corners=False)[0].clamp(0, 1)
    assert torch.equal(small, expected)
    from degrade_stream.diffusion import train_data
    assert train_data.resize_shorter_side is resize_shorter_side  # the training crops use the same resize


def test_resize_of_a_batch_is_bit_identical_to_each_image_alone():
    x = torch.rand(5, 3, 96, 80, generator=torch.Generator().manual_seed(1))
    down = resize_shorter_side(x, 24)
    up = resize_to(down, 96, 80)
    assert down.shape == (5, 3, 29, 24) and up.shape == x.shape
    for i in range(5):
        assert torch.equal(resize_shorter_side(x[i:i + 1], 24), down[i:i + 1])
        assert torch.equal(resize_to(down[i:i + 1], 96, 80), up[i:i + 1])


def test_model_reads_the_checkpoints_working_size(face_ckpt, native_ckpt):
    assert checkpoint_working_size(face_ckpt) == WORK
    assert checkpoint_working_size(native_ckpt) is None
    assert refiner(face_ckpt).stages[0].resolution == WORK
    assert refiner(native_ckpt).stages[0].resolution is None
    assert refiner(face_ckpt, working_size=None).stages[0].resolution is None
    assert refiner(native_ckpt, working_size=48).stages[0].resolution == 48


def test_a_512_face_comes_back_at_512_and_the_network_runs_at_the_working_size(face_ckpt, monkeypatch):
    shapes = []
    call = Denoiser.__call__

    def spy(self, x, t_index):
        shapes.append(tuple(x.shape))
        return call(self, x, t_index)

    monkeypatch.setattr(Denoiser, "__call__", spy)
    x = faces(1, 512)
    out = refiner(face_ckpt, t_range=[30, 30])(x, seed=torch.tensor([5])).lq
    assert out.shape == (1, 3, 512, 512) and out.dtype == x.dtype
    assert torch.equal(torch.round(out * 255) / 255, out) and out.min() >= 0 and out.max() <= 1
    assert shapes and set(shapes) == {(1, 3, WORK, WORK)}
    assert len(shapes) == 3  # ceil(30 / t_per_step 10) DDIM steps
    # non-square: the shorter side goes to the working size, the result to the input size
    shapes.clear()
    y = faces(1, 96)[:, :, :, :64]
    out = refiner(face_ckpt, t_range=[10, 10])(y, seed=torch.tensor([5])).lq
    assert out.shape == (1, 3, 96, 64) and set(shapes) == {(1, 3, 48, WORK)}


def _native_reference(denoiser: Denoiser, x: torch.Tensor, t: torch.Tensor, seeds: torch.Tensor) -> torch.Tensor:
    """The refinement as ddpm_refine computed it before working_size existed (DDIM, t_per_step 10, steps 8)."""
    z, h, w = pad_to_multiple(denoiser.space.to_model(x.float() * 2 - 1), denoiser.stride)
    rng = SampleRandom(seeds)
    shape = tuple(z.shape[1:])
    z_t = denoiser.schedule.q_sample(z, t, rng.normal(*shape))
    r = sample_ddim_per_t(denoiser, z_t, t, 10, 8, 0.0, lambda step: rng.fork(step).normal(*shape))
    return quantize8((denoiser.space.from_model(r[..., :h, :w]) + 1) / 2)


@pytest.mark.parametrize("size", [(64, 64), pytest.param((40, 56), marks=pytest.mark.slow)])
def test_working_size_null_is_bit_identical_to_the_native_refiner(face_ckpt, native_ckpt, size):
    x = faces(3, 64)[:, :, :size[0], :size[1]].contiguous()
    seeds = torch.tensor([1, 2, 3])
    null = refiner(face_ckpt, working_size=None, t_range=[20, 60])
    out = null(x, seed=seeds)
    t = out.params[0]["t"]
    assert bool((t > 0).all())
    reference = _native_reference(DenoiserHandle(face_ckpt).get("cpu"), x, t, out.params[0]["noise_seed"])
    assert torch.equal(out.lq, reference)
    # a checkpoint without working_size under the default "model": the same native path
    native = refiner(native_ckpt, t_range=[20, 60])
    assert native.stages[0].to_config()["working_size"] == "model"
    assert torch.equal(native(x, seed=seeds).lq,
                       _native_reference(DenoiserHandle(native_ckpt).get("cpu"), x, t,
                                         out.params[0]["noise_seed"]))


def test_batch_independence_determinism_replay_and_t0(face_ckpt):
    chain = refiner(face_ckpt, t_range=[0, 60])
    x = faces(6, 128, seed=3)
    seeds = torch.tensor([0, 1, 2, 3, 4, 5]) * 7919 + 11
    params = [{"t": torch.tensor([0, 40, 60, 0, 25, 10]), "noise_seed": torch.arange(6) * 1000 + 7}]
    full = chain(x, params=params).lq
    assert torch.equal(chain(x, params=params).lq, full)  # deterministic
    for i in (0, 3):  # t = 0 is the identity, exactly, at any size
        assert torch.equal(full[i], x[i])
    perm = torch.tensor([4, 2, 0, 5, 1, 3])
    shuffled = chain(x[perm], params=[{k: v[perm] for k, v in params[0].items()}]).lq
    # the resizes are exactly per sample; the network's convolutions may differ in the last float bit with
    # batch size (as at native size, test_diffusion_refine.py), which can move an 8-bit level by one
    assert (shuffled - full[perm]).abs().max() <= 1 / 255 + 1e-6
    assert (shuffled == full[perm]).float().mean() > 0.999
    for i in (1, 4):
        alone = chain(x[i:i + 1], params=[{k: v[i:i + 1] for k, v in params[0].items()}]).lq
        assert (alone - full[i:i + 1]).abs().max() <= 1 / 255 + 1e-6
    drawn = chain(x, seed=seeds)
    assert torch.equal(chain(x, params=drawn.params).lq, drawn.lq)  # replay from params
    assert torch.equal(chain(x, seed=seeds).lq, drawn.lq)
    assert not torch.equal(chain(x, seed=seeds + 1).lq, drawn.lq)


def test_no_global_rng_is_used(face_ckpt):
    chain = refiner(face_ckpt, t_range=[10, 40])
    x = faces(2, 96)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = chain(x, seed=torch.tensor([8, 9])).lq
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(999)  # another global state: the same result
    assert torch.equal(chain(x, seed=torch.tensor([8, 9])).lq, first)


def _working_reference(denoiser: Denoiser, x: torch.Tensor, t: torch.Tensor, seeds: torch.Tensor,
                       detail: bool = True) -> torch.Tensor:
    """The working-size refinement spelled out: down to WORK, q-sample and DDIM there, up to the input size,
    plus (``detail``) the input's detail above WORK, x - up(down(x)); rounded to 8 bit once."""
    height, width = x.shape[-2:]
    down = resize_shorter_side(x, WORK)
    z = denoiser.space.to_model(down * 2 - 1)
    rng = SampleRandom(seeds)
    shape = tuple(z.shape[1:])
    z_t = denoiser.schedule.q_sample(z, t, rng.normal(*shape))
    r = sample_ddim_per_t(denoiser, z_t, t, 10, 8, 0.0, lambda step: rng.fork(step).normal(*shape))
    r = ((denoiser.space.from_model(r) + 1) / 2).clamp(0, 1)
    return quantize8(resize_to(r, height, width) + ((x - resize_to(down, height, width)) if detail else 0))


def test_the_result_is_the_upscaled_refinement_plus_the_detail_above_the_working_size(face_ckpt):
    x = faces(2, 128, seed=4)
    params = [{"t": torch.tensor([30, 50]), "noise_seed": torch.tensor([5, 6])}]
    out = refiner(face_ckpt)(x, params=params).lq
    reference = _working_reference(DenoiserHandle(face_ckpt).get("cpu"), x, params[0]["t"],
                                   params[0]["noise_seed"])
    assert torch.equal(out, reference)
    detail = x - resize_to(resize_shorter_side(x, WORK), 128, 128)
    assert detail.abs().mean() > 0.01  # the test images do have detail above 32 px
    plain = _working_reference(DenoiserHandle(face_ckpt).get("cpu"), x, params[0]["t"], params[0]["noise_seed"],
                               detail=False)
    inside = (out > 0) & (out < 1) & (plain > 0) & (plain < 1)  # where neither result was clipped
    assert inside.float().mean() > 0.9
    assert ((out - plain - detail)[inside]).abs().max() <= 1 / 255 + 1e-6  # two 8-bit roundings


def test_bad_working_size_is_an_error_naming_the_key(face_ckpt, tmp_path):
    for value, text in (("auto", "working_size"), (4, "working_size"), (12.5, "working_size"), (True, "working_size")):
        with pytest.raises(ConfigError, match=text):
            refiner(face_ckpt, working_size=value)
    with pytest.raises(ConfigError, match="keep_detail"):
        refiner(face_ckpt, keep_detail=True)  # not an option: the detail is always added back (measured)
    bad = tmp_path / "bad"
    _checkpoint(bad, None)
    config_file = bad / "step_00000001" / "config.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["working_size"] = "big"
    config_file.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"working_size.*config\.yaml.*'big'"):
        refiner(str(bad))
    refiner(str(bad), working_size=None)  # an explicit value does not read it
