"""The ``camera`` stage: YAML round trip, exact replay from params, bit-exact batch independence, its
checks (model file, hash, argument ranges) and what calibrate can tune in it."""
from __future__ import annotations

import pytest
import torch
import yaml

import degrade_stream as ds
from degrade_stream.calibrate.space import SearchSpace
from degrade_stream.core.errors import ConfigError
from degrade_stream.degrade import model_base
from degrade_stream.fit.model import CameraModel, file_sha256, load_model, save_model
from camera_helpers import sharpened_kernel


def _model(scale: int = 1, entries: int = 3) -> CameraModel:
    g = torch.Generator().manual_seed(5)
    kernels = sharpened_kernel(9).expand(entries, 3, 9, 9).clone()
    kernels[:, :, 4, 4] += 0.05 * torch.rand(entries, 3, generator=g)
    kernels = kernels / kernels.sum((-1, -2), keepdim=True)
    colour = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]).expand(entries, 3, 4)
    colour = colour + 0.02 * torch.rand(entries, 3, 4, generator=g)
    spatial = torch.tensor([[0.1, 0.2, 0.1], [0.2, 1.0, 0.2], [0.1, 0.2, 0.1]])
    chroma = torch.linalg.cholesky(torch.tensor([[1.0, 0.5, 0.3], [0.5, 1.0, 0.5], [0.3, 0.5, 1.0]]))
    return CameraModel(kernels=kernels, colour=colour.contiguous(), noise_a=torch.full((entries, 3), 3e-4),
                       noise_b=torch.full((entries, 3), 5e-5), chroma=chroma, spatial=spatial / spatial.norm(),
                       scale=scale, names=tuple(f"s{i}" for i in range(entries)),
                       detail=0.2 + 0.1 * torch.rand(entries, 3, generator=g), detail_chroma=chroma.flip(0, 1).T,
                       detail_spatial=spatial.T / spatial.norm())


def _config(path, **extra) -> dict:
    return {"name": "cam", "stages": [{"type": "camera", "model": str(path), "model_sha256": file_sha256(path),
                                       "noise_gain_range": [0.5, 2.0], "jpeg_prob": 0.5, "jpeg_range": [60.0, 95.0],
                                       **extra}]}


@pytest.fixture
def model_file(tmp_path):
    return save_model(_model(), tmp_path / "cam.safetensors")


def test_model_file_round_trips(model_file):
    loaded = load_model(model_file)
    original = _model()
    for key in ("kernels", "colour", "noise_a", "noise_b", "chroma", "spatial", "detail", "detail_chroma",
                "detail_spatial"):
        assert torch.equal(getattr(loaded, key), getattr(original, key))
    assert loaded.scale == 1 and loaded.names == ("s0", "s1", "s2")


def test_yaml_round_trip_and_exact_replay(model_file, tmp_path, hq_batch):
    chain = ds.load_chain(_config(model_file))
    saved = ds.save_chain(chain, tmp_path / "chain.yaml")
    again = ds.load_chain(saved)
    assert again.to_config() == chain.to_config() == yaml.safe_load(saved.read_text())
    seeds = torch.arange(8, dtype=torch.int64) + 40
    first = chain(hq_batch, seed=seeds)
    assert torch.equal(again(hq_batch, seed=seeds).lq, first.lq)
    assert torch.equal(chain(hq_batch, params=first.params).lq, first.lq)
    p = first.params[0]
    assert p["entry"].shape == (8,) and len(set(p["entry"].tolist())) > 1  # per-sample bank entries
    assert bool(p["jpeg_on"].any()) and not bool(p["jpeg_on"].all())
    assert not torch.equal(first.lq, hq_batch)


@pytest.mark.parametrize("threads", [1, 2])
def test_sample_alone_equals_itself_in_a_shuffled_batch(model_file, hq_batch, threads, monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    monkeypatch.setattr(model_base, "quantize8", lambda x: x)  # unrounded: every last bit shows
    try:
        chain = ds.load_chain(_config(model_file))
        seeds = torch.arange(8, dtype=torch.int64) * 7919 + 3
        perm = torch.tensor([3, 0, 7, 1, 6, 2, 5, 4])
        batch = chain(hq_batch[perm], seed=seeds[perm]).lq
        assert not torch.equal(batch * 255, (batch * 255).round())
        for j, i in enumerate(perm.tolist()):
            assert torch.equal(chain(hq_batch[i:i + 1], seed=seeds[i:i + 1]).lq[0], batch[j]), i
    finally:
        torch.set_num_threads(before)


def test_noise_follows_the_model(tmp_path):
    path = save_model(_model(), tmp_path / "m.safetensors")
    flat = torch.full((1, 3, 128, 128), 0.5)
    cfg = _config(path, noise_gain_range=[1.0, 1.0], jpeg_prob=0.0, colour=False)
    lq = ds.load_chain(cfg)(flat, seed=1).lq
    std = float((lq - 0.5).std())
    assert abs(std - (3e-4 * 0.5 + 5e-5) ** 0.5) < 0.002  # the fitted std at mid-grey (8-bit levels add ~0.001)
    zero = ds.load_chain(_config(path, noise_gain_range=[0.0, 0.0], jpeg_prob=0.0, colour=False))(flat, seed=1).lq
    assert float((zero - 0.5).abs().max()) < 1 / 255


def test_detail_residual_follows_texture_and_its_gain(tmp_path, hq_batch):
    """The detail residual is 0 on a flat input, grows with texture, scales with detail_gain; a model file
    without the detail tensors (written before they existed) loads with none and its output is unchanged."""
    path = save_model(_model(), tmp_path / "m.safetensors")
    base = dict(noise_gain_range=[0.0, 0.0], jpeg_prob=0.0, colour=False)
    flat = torch.full((1, 3, 64, 64), 0.5)
    assert float((ds.load_chain(_config(path, **base))(flat, seed=1).lq - 0.5).abs().max()) < 1 / 255
    off = ds.load_chain(_config(path, **base, detail_gain_range=[0.0, 0.0]))(hq_batch, seed=3).lq
    one = ds.load_chain(_config(path, **base))(hq_batch, seed=3).lq
    two = ds.load_chain(_config(path, **base, detail_gain_range=[2.0, 2.0]))(hq_batch, seed=3).lq
    ratio = float((two - off).std() / (one - off).std())
    assert float((one - off).abs().max()) > 0.02 and abs(ratio - 2.0) < 0.1
    from safetensors.torch import save_file
    old = tmp_path / "old.safetensors"
    tensors = {k: v for k, v in _model().tensors().items() if not k.startswith("detail")}
    save_file(tensors, str(old), metadata={"format": "degrade_stream.camera/1", "scale": "1", "names": "[]"})
    assert not load_model(old).has_detail
    assert torch.equal(ds.load_chain(_config(old, **base))(hq_batch, seed=3).lq, off)
    save_file({**tensors, "detail": torch.zeros(3, 3)}, str(old), metadata={"format": "degrade_stream.camera/1"})
    with pytest.raises(ValueError, match="needs all three"):
        load_model(old)


def test_scale_and_resize_back(tmp_path, hq_batch):
    path = save_model(_model(scale=2), tmp_path / "m2.safetensors")
    assert ds.load_chain(_config(path))(hq_batch, seed=0).lq.shape[-2:] == (32, 32)
    back = ds.load_chain(_config(path, resize_back=True))
    assert back.scale == 1 and back(hq_batch, seed=0).lq.shape[-2:] == (64, 64)


def test_model_errors_name_the_key(tmp_path, model_file):
    with pytest.raises(ConfigError, match=r"stages\[0\]\.model: camera model file not found"):
        ds.load_chain(_config(model_file) | {"stages": [{"type": "camera", "model": str(tmp_path / "none.st")}]})
    with pytest.raises(ConfigError, match=r"stages\[0\]\.model_sha256: .* the file changed"):
        ds.load_chain(_config(model_file, model_sha256="0" * 64))
    with pytest.raises(ConfigError, match=r"stages\[0\]\.noise_gain_range"):
        ds.load_chain(_config(model_file, noise_gain_range=[2.0, 1.0]))
    with pytest.raises(ConfigError, match=r"stages\[0\]\.jpeg_prob"):
        ds.load_chain(_config(model_file, jpeg_prob=1.5))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(ConfigError, match="junk.safetensors: not a readable safetensors file"):
        ds.load_chain({"stages": [{"type": "camera", "model": str(junk)}]})
    from safetensors.torch import save_file
    bad = tmp_path / "bad.safetensors"
    tensors = _model().tensors()
    tensors["colour"] = torch.zeros(2, 3, 4)
    save_file(tensors, str(bad), metadata={"format": "degrade_stream.camera/1", "scale": "1", "names": "[]"})
    with pytest.raises(ConfigError, match=r"bad.safetensors: 'colour' has shape \(2, 3, 4\), expected \(3, 3, 4\)"):
        ds.load_chain({"stages": [{"type": "camera", "model": str(bad)}]})
    save_file(tensors, str(bad))
    with pytest.raises(ConfigError, match="not a camera model"):
        ds.load_chain({"stages": [{"type": "camera", "model": str(bad)}]})


def test_calibrate_tunes_the_free_numbers(model_file):
    space = SearchSpace(ds.load_chain(_config(model_file)))
    assert {k.name for k in space.knobs} == {"noise_gain_range", "jpeg_prob", "jpeg_range", "detail_gain_range"}
    chain = space.chain_for(space.encode())  # decodes back to a valid camera chain
    assert chain.stages[0].to_config()["model"] == str(model_file)
