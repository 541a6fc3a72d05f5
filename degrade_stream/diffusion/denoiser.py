"""A loaded denoiser: the UNet and its schedule on one device, ready for sampling.

``load_unet`` reads any supported checkpoint: the bundled demo model, the project's own checkpoint
folders (a training ``--out`` folder or one ``step_*`` folder) and diffusers UNet2DModel folders.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from ..core.resources import assets_root
from .checkpoint import load_state_checked, read_model, resolve_checkpoint
from .diffusers_import import is_diffusers_folder, read_diffusers_unet
from .schedule import NoiseSchedule, make_schedule
from .unet import UNet

BUNDLED = "bundled"
PRECISIONS = ("auto", "fp32", "bf16")


def bundled_checkpoint() -> Path:
    """The folder of the small demonstration model shipped in the package."""
    return assets_root() / "ddpm_demo"


def resolve_spec(spec: str) -> tuple[str, Path]:
    """('project' | 'diffusers', folder) for a checkpoint argument; errors name the path."""
    if spec in ("", BUNDLED):
        folder = bundled_checkpoint()
        if not folder.is_dir():
            raise FileNotFoundError(f"the bundled demo model is missing from the installation: {folder}")
        return "project", folder
    path = Path(os.path.expanduser(spec))
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.is_dir() and is_diffusers_folder(path):
        return "diffusers", path
    return "project", resolve_checkpoint(path)


def load_unet(spec: str, ema: bool = True) -> tuple[UNet, NoiseSchedule]:
    """Build the UNet of a checkpoint with its weights (EMA by default) and its noise schedule, on CPU."""
    kind, folder = resolve_spec(spec)
    if kind == "diffusers":
        arch, schedule, state = read_diffusers_unet(folder)  # diffusers folders hold one set of weights
    else:
        arch, schedule, state = read_model(folder, ema=ema)
    model = UNet(arch)
    load_state_checked(model, state, str(folder))
    return model.eval().requires_grad_(False), make_schedule(schedule)


class Denoiser:
    """eps = denoiser(x_t, t_index) in float32; bf16 autocast and channels_last on CUDA."""

    def __init__(self, model: UNet, schedule: NoiseSchedule, device: torch.device, precision: str = "auto",
                 compile: bool = False) -> None:
        self.device = device
        cuda = device.type == "cuda"
        self.autocast = precision == "bf16" or (precision == "auto" and cuda)
        self.channels_last = cuda
        model = model.to(device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self.net = torch.compile(model) if compile else model
        self.schedule = schedule.to(device)
        self.stride = model.config.stride

    @torch.inference_mode()
    def __call__(self, x: Tensor, t_index: Tensor) -> Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            return self.net(x, t_index).float()
