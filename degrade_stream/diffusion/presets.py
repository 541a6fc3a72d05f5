"""Named UNet architectures: ``tiny`` (tests, CPU demo), ``local`` (small-t refinement on a CPU), ``paper`` (DDPM 256 px), ``release``
(the authors' diffusers UNet2DModel: channels 128,256,512,512, attention in the third down and
second up level)."""
from __future__ import annotations

from typing import Any

from ..core.errors import closest
from .unet import UNetConfig

PRESETS: dict[str, UNetConfig] = {
    # About 0.9M parameters (0.64 GFLOP per 64x64 image); attention only at 1/8 resolution and in the
    # middle, so CPU training and the CPU demo stay quick.
    "tiny": UNetConfig(channels=(16, 32, 48, 64), layers_per_block=1, down_attention=(False, False, False, True),
                       norm_groups=8, head_dim=16),
    # For the refiner's small t: wide at full resolution, where noise, JPEG blocks and ringing live,
    # three levels (receptive field ~50 px, the degradation scale rather than the image), no attention,
    # so it is fully convolutional and refines any size (3.5M parameters).
    "local": UNetConfig(channels=(64, 96, 128), layers_per_block=1, down_attention=(False, False, False),
                        mid_attention=False, norm_groups=16, head_dim=None),
    # Ho et al. 2020, app. B for 256x256 (LSUN/CelebA-HQ): ch 128, mult (1,1,2,2,4,4), 2 blocks, attention at 16x16.
    "paper": UNetConfig(channels=(128, 128, 256, 256, 512, 512), layers_per_block=2,
                        down_attention=(False, False, False, False, True, False), norm_groups=32, head_dim=64),
    # yangxy/synthesizing_realistic_training_pairs: diffusers UNet2DModel, down (Down, Down, AttnDown, Down),
    # up (Up, AttnUp, Up, Up), 2 layers per block, attention_head_dim 8.
    "release": UNetConfig(channels=(128, 256, 512, 512), layers_per_block=2, down_attention=(False, False, True, False),
                          norm_groups=32, head_dim=8),
}


def unet_config(spec: str | dict[str, Any], path: str = "model") -> UNetConfig:
    """A UNetConfig from a preset name, or a mapping ``{preset: NAME, **overrides}`` or a full mapping."""
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ValueError(f"{path}: unknown UNet preset {spec!r}{closest(spec, PRESETS)}; presets: {', '.join(PRESETS)}")
        return PRESETS[spec]
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: expected a preset name or a mapping, got {spec!r}")
    data = dict(spec)
    base: dict[str, Any] = {}
    if "preset" in data:
        base = unet_config(data.pop("preset"), f"{path}.preset").to_dict()
    base.update(data)
    return UNetConfig.from_dict(base, path)
