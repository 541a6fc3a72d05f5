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
from .checkpoint import (CONFIG_FILE, load_state_checked, read_config, read_model, read_weights_for,
                         resolve_checkpoint)
from .colour_space import ColourSpace, colour_space_from_config
from .diffusers_import import WEIGHT_FILES, is_diffusers_folder, read_diffusers_unet, schedule_from_diffusers
from .prediction import to_epsilon
from .schedule import NoiseSchedule, ScheduleConfig, make_schedule
from .unet import UNet
from .working_size import config_working_size

BUNDLED = "bundled"
BUNDLED_FACE = "bundled_face"
#: checkpoint names of the models shipped in the package: the natural-image model and the face model
BUNDLED_FOLDERS = {BUNDLED: "ddpm_demo", BUNDLED_FACE: "ddpm_face"}
PRECISIONS = ("auto", "fp32", "bf16")


def bundled_checkpoint(name: str = BUNDLED) -> Path:
    """The folder of a model shipped in the package: ``bundled`` (natural images) or ``bundled_face``."""
    return assets_root() / BUNDLED_FOLDERS[name]


def resolve_spec(spec: str) -> tuple[str, Path]:
    """('project' | 'project-file' | 'diffusers', path) for a checkpoint argument; errors name the path.

    Accepted: ``bundled`` (natural images), ``bundled_face`` (aligned faces); a train-ddpm ``--out`` folder (its latest checkpoint) or one ``step_*`` folder; a
    ``.safetensors`` weights file inside such a folder; a diffusers UNet2DModel or pipeline folder, or its
    weights file.
    """
    if spec in ("", *BUNDLED_FOLDERS):
        folder = bundled_checkpoint(spec or BUNDLED)
        if not folder.is_dir():
            raise FileNotFoundError(f"the bundled model {spec or BUNDLED!r} is missing from the installation: {folder}")
        return "project", folder
    path = Path(os.path.expanduser(spec))
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.is_file():
        if path.name in WEIGHT_FILES and is_diffusers_folder(path.parent):
            return "diffusers", path.parent
        if path.suffix == ".safetensors" and (path.parent / CONFIG_FILE).is_file():
            return "project-file", path
        raise ValueError(f"{path}: expected a .safetensors weights file beside a {CONFIG_FILE} (a checkpoint "
                         "folder), a diffusers weights file beside config.json, or a checkpoint folder")
    if is_diffusers_folder(path):
        return "diffusers", path
    return "project", resolve_checkpoint(path)


def checkpoint_schedule(spec: str) -> ScheduleConfig:
    """A checkpoint's noise schedule, read from its config files alone (no weights are loaded)."""
    kind, folder = resolve_spec(spec)
    if kind == "diffusers":
        return schedule_from_diffusers(folder)
    _, schedule, _ = read_model(folder.parent if kind == "project-file" else folder, weights=False)
    return schedule


def checkpoint_timesteps(spec: str) -> int:
    """T of a checkpoint's noise schedule, read from its config files alone (no weights are loaded)."""
    return checkpoint_schedule(spec).timesteps


def checkpoint_working_size(spec: str) -> int | None:
    """The ``working_size`` a checkpoint was trained at (its config.yaml; None: native, and for diffusers)."""
    kind, folder = resolve_spec(spec)
    if kind == "diffusers":
        return None
    folder = folder.parent if kind == "project-file" else folder
    return config_working_size(read_config(folder), str(folder / CONFIG_FILE))


def load_unet(spec: str, ema: bool = True) -> tuple[UNet, NoiseSchedule]:
    """Build the UNet of a checkpoint with its weights (EMA by default) and its noise schedule, on CPU."""
    kind, folder = resolve_spec(spec)
    if kind == "diffusers":
        arch, schedule, state = read_diffusers_unet(folder)  # diffusers folders hold one set of weights
    elif kind == "project-file":  # that weights file, whatever ``ema`` says
        arch, schedule, _ = read_model(folder.parent, ema=True, weights=False)
        state = read_weights_for(folder, arch, str(folder.parent / CONFIG_FILE))  # checked before it is read
    else:
        arch, schedule, state = read_model(folder, ema=ema)
    with torch.random.fork_rng(devices=[]):  # the throwaway initial weights must not consume the caller's RNG
        model = UNet(arch)
    load_state_checked(model, state, str(folder))
    return model.eval().requires_grad_(False), make_schedule(schedule)


def load_colour_space(spec: str) -> ColourSpace:
    """The colour space a checkpoint was trained in (``chroma_gain`` in its config.yaml; diffusers: RGB)."""
    kind, folder = resolve_spec(spec)
    if kind == "diffusers":
        return ColourSpace()
    return colour_space_from_config(read_config(folder.parent if kind == "project-file" else folder))


class Denoiser:
    """The model: eps = denoiser(x_t, t_index) in float32; channels_last everywhere, bf16 autocast on CUDA
    (``auto``). channels_last pays on CPU too (benchmarks/RESULTS.md, issue 15); bf16 on CPU is opt-in
    (``precision: bf16``) as it changes the result. The reverse step that uses it is in sampler.py.
    """

    def __init__(self, model: UNet, schedule: NoiseSchedule, device: torch.device, precision: str = "auto",
                 compile: bool = False, space: ColourSpace = ColourSpace()) -> None:
        self.device = device
        self.space = space  # the colour space the model diffuses in (RGB for every older checkpoint)
        cuda = device.type == "cuda"
        self.autocast = precision == "bf16" or (precision == "auto" and cuda)
        self.channels_last = True
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
            out = self.net(x, t_index).float()
        return to_epsilon(out, x, t_index, self.schedule)  # a sample or v model's output as eps
