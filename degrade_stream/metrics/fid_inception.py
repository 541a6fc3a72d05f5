"""The Inception-v3 variant that FID is defined on, built from torchvision's blocks, weights local only.

FID (Heusel et al. 2017) uses the 2015 TensorFlow Inception graph; pytorch-fid's
``pt_inception-2015-12-05-6726825d.pth`` holds its weights under torchvision's parameter names. That
graph differs from torchvision's Inception-v3 in three ways (documented by pytorch-fid's
``fid_inception_v3``): 1008 output classes; the average-pool branch of the A, C and first E blocks
excludes padding from the mean (count_include_pad=False); the last E block's pool branch is a max
pool. The subclasses below change only that pool branch; every parameter keeps its torchvision name,
so the pytorch-fid state dict loads strictly. Nothing is ever downloaded.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..compat import ensure_torchvision_importable

FEATURE_DIM = 2048
INPUT_SIZE = 299


def _avg_pool_without_padding(x: Tensor) -> Tensor:
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _max_pool(x: Tensor) -> Tensor:
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


def _with_pool_branch(block_class: type, pool) -> type:
    """A subclass of a torchvision Inception block whose last (pool) branch uses ``pool``."""

    class FidBlock(block_class):
        def _forward(self, x: Tensor) -> list[Tensor]:
            outputs = super()._forward(x)
            outputs[-1] = self.branch_pool(pool(x))
            return outputs

    FidBlock.__name__ = f"Fid{block_class.__name__}"
    return FidBlock


def build_fid_inception() -> nn.Module:
    """The FID Inception network, randomly initialised (load weights with ``load_fid_inception``)."""
    ensure_torchvision_importable()
    from torchvision.models import inception as tv

    block_a = _with_pool_branch(tv.InceptionA, _avg_pool_without_padding)
    block_c = _with_pool_branch(tv.InceptionC, _avg_pool_without_padding)
    block_e1 = _with_pool_branch(tv.InceptionE, _avg_pool_without_padding)
    block_e2 = _with_pool_branch(tv.InceptionE, _max_pool)
    net = tv.Inception3(num_classes=1008, aux_logits=False, transform_input=False, init_weights=False)
    net.Mixed_5b, net.Mixed_5c, net.Mixed_5d = block_a(192, 32), block_a(256, 64), block_a(288, 64)
    net.Mixed_6b, net.Mixed_6c = block_c(768, 128), block_c(768, 160)
    net.Mixed_6d, net.Mixed_6e = block_c(768, 160), block_c(768, 192)
    net.Mixed_7b, net.Mixed_7c = block_e1(1280), block_e2(2048)
    net.fc = nn.Linear(FEATURE_DIM, 1008)
    return net.eval()


def load_fid_inception(weights: str | os.PathLike, device: torch.device | str = "cpu") -> nn.Module:
    """The FID network with a local state dict (pytorch-fid's pt_inception file); clear errors if it does not fit."""
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"--inception-weights: no such file {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"--inception-weights {path}: not a PyTorch state dict ({err})") from None
    if not isinstance(state, dict):
        raise ValueError(f"--inception-weights {path}: expected a state dict, got {type(state).__name__}")
    with torch.device("meta"):  # no random initialisation of 24M parameters only to overwrite them
        net = build_fid_inception()
    try:
        result = net.load_state_dict(state, strict=False, assign=True)
    except RuntimeError as err:  # a tensor of the wrong shape
        raise ValueError(f"--inception-weights {path} does not fit the FID Inception network: {err}") from None
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(f"--inception-weights {path} does not fit the FID Inception network: "
                         f"missing {result.missing_keys[:3]}{'...' if len(result.missing_keys) > 3 else ''}, "
                         f"unexpected {result.unexpected_keys[:3]}")
    return net.to(device).eval()


def inception_features(net: nn.Module, images: Tensor) -> Tensor:
    """(N, 2048) pool features of (N, 3, H, W) images in [0, 1] (resized to 299 bilinearly, scaled to [-1, 1])."""
    x = F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    x = 2.0 * x - 1.0
    for name, module in net.named_children():
        if name in ("dropout", "fc", "AuxLogits"):
            continue
        x = module(x)
    return torch.flatten(x, 1)
