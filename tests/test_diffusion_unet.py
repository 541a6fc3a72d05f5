"""The UNet, its presets, and loading diffusers UNet2DModel folders."""
from __future__ import annotations

import json

import pytest
import torch

from degrade_stream.diffusion.denoiser import load_unet
from degrade_stream.diffusion.diffusers_import import read_diffusers_unet, unet_config_from_diffusers
from degrade_stream.diffusion.presets import PRESETS, unet_config
from degrade_stream.diffusion.unet import UNet, UNetConfig
from diffusion_helpers import MICRO, single_thread  # noqa: F401  (single_thread: autouse fixture)

RELEASE_BLOCKS = dict(down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
                      up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D", "UpBlock2D"))


def test_output_shape_and_timestep_dependence():
    torch.manual_seed(0)
    net = UNet(MICRO).eval()
    x = torch.randn(2, 3, 12, 10)
    with torch.no_grad():
        a = net(x, torch.tensor([0, 0]))
        b = net(x, torch.tensor([0, 500]))
    assert a.shape == x.shape
    assert torch.equal(a[0], b[0]) and not torch.allclose(a[1], b[1])


def test_input_size_must_be_a_stride_multiple():
    net = UNet(unet_config("tiny"))
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.randn(1, 3, 20, 16), torch.tensor([1]))


def test_presets():
    assert 5e5 < UNet(PRESETS["tiny"]).num_parameters() < 4e6  # a few M: CPU demo and tests
    release = PRESETS["release"]
    assert release.channels == (128, 256, 512, 512) and release.down_attention == (False, False, True, False)
    assert release.up_attention_resolved == (False, True, False, False)  # second up block
    assert PRESETS["paper"].stride == 32


def test_config_round_trip_and_errors():
    cfg = unet_config({"preset": "tiny", "layers_per_block": 2})
    assert cfg.layers_per_block == 2 and cfg.channels == PRESETS["tiny"].channels
    assert UNetConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown UNet preset 'tinny'.*did you mean 'tiny'"):
        unet_config("tinny")
    with pytest.raises(ValueError, match="model.down_attention: expected 4 values"):
        unet_config({"preset": "tiny", "down_attention": [True]})
    with pytest.raises(ValueError, match="model.widths: unknown UNet setting"):
        unet_config({"widths": [8]})


@pytest.mark.slow  # imports diffusers (about 4 s)
def test_diffusers_equivalence(tmp_path):
    """A random UNet2DModel with the release layout, saved by diffusers, gives the same outputs here."""
    pytest.importorskip("diffusers")
    from degrade_stream.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    from diffusers import UNet2DModel

    torch.manual_seed(0)
    ref = UNet2DModel(sample_size=32, block_out_channels=(32, 32, 64, 64), norm_num_groups=8, **RELEASE_BLOCKS).eval()
    ref.save_pretrained(tmp_path / "unet")
    net, schedule = load_unet(str(tmp_path / "unet"))
    x = torch.randn(3, 3, 32, 32)
    t = torch.tensor([0, 249, 999])
    with torch.no_grad():
        expected = ref(x, t).sample
        got = net(x, t)
    assert ((got - expected).norm() / expected.norm()).item() < 1e-4
    assert schedule.timesteps == 1000


def test_diffusers_bin_weights_are_read_without_unpickling_objects(tmp_path):
    pytest.importorskip("diffusers")
    from degrade_stream.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    from diffusers import UNet2DModel

    ref = UNet2DModel(sample_size=16, block_out_channels=(16, 16, 32, 32), norm_num_groups=8, **RELEASE_BLOCKS)
    ref.save_pretrained(tmp_path, safe_serialization=False)
    assert (tmp_path / "diffusion_pytorch_model.bin").is_file()
    arch, _, state = read_diffusers_unet(tmp_path)
    assert arch.channels == (16, 16, 32, 32)
    assert state["down.2.attn.0.qkv.weight"].shape == (96, 32)


def test_unsupported_diffusers_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match="resnet_time_scale_shift='scale_shift' is not supported"):
        unet_config_from_diffusers({"_class_name": "UNet2DModel", "resnet_time_scale_shift": "scale_shift"})
    with pytest.raises(ValueError, match="down_block_types entry 'SkipDownBlock2D'"):
        unet_config_from_diffusers({"block_out_channels": [32], "down_block_types": ["SkipDownBlock2D"],
                                    "up_block_types": ["UpBlock2D"]})
    (tmp_path / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel", "block_out_channels": [32],
                                                      "down_block_types": ["DownBlock2D"], "up_block_types": ["UpBlock2D"]}))
    with pytest.raises(FileNotFoundError, match="no weights; expected one of diffusion_pytorch_model.safetensors"):
        read_diffusers_unet(tmp_path)
