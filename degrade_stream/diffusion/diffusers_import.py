"""Load a diffusers ``UNet2DModel`` folder (config.json + diffusion_pytorch_model.safetensors or .bin)
into the project's UNet, without diffusers installed: the config is translated to a UNetConfig and
the weights are renamed key by key (q, k, v fused into one projection)."""
from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .schedule import ScheduleConfig
from .unet import UNetConfig

WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
_DOWN = {"DownBlock2D": False, "AttnDownBlock2D": True}
_UP = {"UpBlock2D": False, "AttnUpBlock2D": True}
# Settings of UNet2DModel this network does not implement, with the only value it supports.
_REQUIRED = {"center_input_sample": False, "time_embedding_type": "positional", "class_embed_type": None,
             "num_class_embeds": None, "resnet_time_scale_shift": "default", "downsample_type": "conv",
             "upsample_type": "conv", "downsample_padding": 1, "mid_block_scale_factor": 1, "act_fn": "silu"}
_SCHEDULES = {"linear": "linear", "squaredcos_cap_v2": "cosine", "sigmoid": "sigmoid"}


def is_diffusers_folder(folder: str | os.PathLike) -> bool:
    """True for a UNet2DModel folder or a pipeline folder holding one in ``unet/``, and for a folder that
    looks like one without its config.json (a diffusers weights file, ``unet/`` or ``model_index.json``),
    so that loading it says config.json is missing rather than that it is no checkpoint at all."""
    folder = Path(folder)
    return ((folder / "config.json").is_file() or (folder / "unet").is_dir() or (folder / "model_index.json").is_file()
            or any((folder / name).is_file() for name in WEIGHT_FILES))


def unet_config_from_diffusers(config: dict[str, Any], source: str = "config.json") -> UNetConfig:
    """Translate a UNet2DModel config.json into a UNetConfig; unsupported settings are errors naming them."""
    cls = config.get("_class_name", "UNet2DModel")
    if cls != "UNet2DModel":
        raise ValueError(f"{source}: expected a diffusers UNet2DModel, got _class_name {cls!r}")
    for key, wanted in _REQUIRED.items():
        if key in config and config[key] != wanted:
            raise ValueError(f"{source}: {key}={config[key]!r} is not supported (only {wanted!r})")
    groups = config.get("norm_num_groups", 32)
    if config.get("attn_norm_num_groups") not in (None, groups):
        raise ValueError(f"{source}: attn_norm_num_groups different from norm_num_groups is not supported")
    if config.get("mid_block_type", "UNetMidBlock2D") != "UNetMidBlock2D":
        raise ValueError(f"{source}: mid_block_type {config.get('mid_block_type')!r} is not supported")

    def kinds(key: str, table: dict[str, bool]) -> tuple[bool, ...]:
        out = []
        for name in config.get(key, ()):
            if name not in table:
                raise ValueError(f"{source}: {key} entry {name!r} is not supported; expected one of {list(table)}")
            out.append(table[name])
        return tuple(out)

    return UNetConfig(channels=tuple(config.get("block_out_channels", (224, 448, 672, 896))),
                      layers_per_block=int(config.get("layers_per_block", 2)),
                      down_attention=kinds("down_block_types", _DOWN), up_attention=kinds("up_block_types", _UP),
                      mid_attention=bool(config.get("add_attention", True)),
                      head_dim=config.get("attention_head_dim", 8), norm_groups=groups,
                      norm_eps=float(config.get("norm_eps", 1e-5)), dropout=float(config.get("dropout", 0.0)),
                      in_channels=int(config.get("in_channels", 3)), out_channels=int(config.get("out_channels", 3)),
                      time_dim=config.get("time_embedding_dim"), flip_sin_to_cos=bool(config.get("flip_sin_to_cos", True)),
                      freq_shift=float(config.get("freq_shift", 0)))


def unet_config_path(folder: str | os.PathLike) -> Path:
    """The UNet's config.json of a UNet2DModel folder or of a pipeline folder (in ``unet/``); an error
    naming it if it is missing."""
    root = Path(folder)
    unet_dir = root / "unet" if (root / "unet").is_dir() and not (root / "config.json").is_file() else root
    path = unet_dir / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; a diffusers UNet2DModel folder needs config.json beside its weights")
    return path


def schedule_from_diffusers(folder: Path) -> ScheduleConfig:
    """The training schedule from a pipeline's scheduler/scheduler_config.json (also beside a ``unet/`` folder
    given on its own); without one, the linear schedule of DDPM and the authors' release, with a warning.
    The folder must hold the UNet's config.json (``unet_config_path``)."""
    unet_config_path(folder)
    candidates = [folder / "scheduler" / "scheduler_config.json"]
    if folder.name == "unet":
        candidates.append(folder.parent / "scheduler" / "scheduler_config.json")
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        default = ScheduleConfig()
        warnings.warn(f"{candidates[0]} not found: assuming the {default.kind} schedule with T = {default.timesteps}, "
                      f"betas {default.beta_start:g} to {default.beta_end:g} (DDPM's and the authors' release); "
                      "if the model was trained with another, add its scheduler_config.json", UserWarning, stacklevel=2)
        return default
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: invalid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    kind = data.get("beta_schedule", "linear")
    if kind not in _SCHEDULES:
        raise ValueError(f"{path}: beta_schedule {kind!r} is not supported; expected one of {list(_SCHEDULES)}")
    return ScheduleConfig(kind=_SCHEDULES[kind], timesteps=int(data.get("num_train_timesteps", 1000)),
                          beta_start=float(data.get("beta_start", 1e-4)), beta_end=float(data.get("beta_end", 0.02)))


def _rename(key: str) -> str:
    """A diffusers UNet2DModel parameter name -> this project's UNet name."""
    key = re.sub(r"\.(query|key|value)\.", lambda m: {"query": ".to_q.", "key": ".to_k.", "value": ".to_v."}[m[1]], key)
    key = key.replace(".proj_attn.", ".to_out.0.")  # names of checkpoints saved by old diffusers
    rules = [
        (r"^conv_in\.", "stem."), (r"^time_embedding\.linear_1\.", "time_mlp.0."),
        (r"^time_embedding\.linear_2\.", "time_mlp.2."), (r"^conv_norm_out\.", "head_norm."),
        (r"^conv_out\.", "head_conv."), (r"^down_blocks\.", "down."), (r"^up_blocks\.", "up."),
        (r"\.resnets\.", ".res."), (r"\.attentions\.", ".attn."), (r"\.time_emb_proj\.", ".time_proj."),
        (r"\.conv_shortcut\.", ".skip."), (r"\.(down|up)samplers\.0\.", ".resample."),
        (r"\.group_norm\.", ".norm."), (r"\.to_out\.0\.", ".out."),
    ]
    for pattern, repl in rules:
        key = re.sub(pattern, repl, key)
    mid = re.match(r"^mid_block\.(res|attn)\.(\d)\.(.*)$", key)
    if mid:
        kind, idx, rest = mid.groups()
        slot = 1 if kind == "attn" else (0 if idx == "0" else 2)
        key = f"mid.{slot}.{rest}"
    return key


def convert_state_dict(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rename every weight; to_q/to_k/to_v of each attention become one fused ``qkv``."""
    out: dict[str, Tensor] = {}
    pending: dict[str, dict[str, Tensor]] = {}
    for key, value in state.items():
        new = _rename(key)
        m = re.match(r"^(.*)\.to_([qkv])\.(weight|bias)$", new)
        if m:
            pending.setdefault(f"{m[1]}.qkv.{m[3]}", {})[m[2]] = value
        else:
            out[new] = value
    for key, parts in pending.items():
        if set(parts) != {"q", "k", "v"}:
            raise ValueError(f"attention weights incomplete for {key}: found only {sorted(parts)}")
        out[key] = torch.cat([parts["q"], parts["k"], parts["v"]], dim=0)
    return out


def read_diffusers_unet(folder: str | os.PathLike) -> tuple[UNetConfig, ScheduleConfig, dict[str, Tensor]]:
    """(architecture, schedule, converted weights) of a diffusers UNet2DModel or pipeline folder."""
    root = Path(folder)
    config_path = unet_config_path(root)
    unet_dir = config_path.parent
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{config_path}: invalid JSON: {err}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{config_path}: expected a JSON object, got {type(config).__name__}")
    arch = unet_config_from_diffusers(config, str(config_path))
    weights = next((unet_dir / n for n in WEIGHT_FILES if (unet_dir / n).is_file()), None)
    if weights is None:
        raise FileNotFoundError(f"{unet_dir}: no weights; expected one of {', '.join(WEIGHT_FILES)}")
    if weights.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(weights))
    else:  # never unpickle arbitrary objects
        state = torch.load(weights, map_location="cpu", weights_only=True)
    return arch, schedule_from_diffusers(root), convert_state_dict(state)
