"""Load a diffusers ``UNet2DModel`` folder (config.json + diffusion_pytorch_model.safetensors or .bin)
into the project's UNet, without diffusers installed: the config is translated to a UNetConfig and
the weights are renamed key by key (q, k, v fused into one projection)."""
from __future__ import annotations

import json
import os
import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..core.errors import ConfigError, short_repr
from ..core.yaml_limits import MAX_BYTES
from .diffusers_schedule import schedule_from_scheduler_config
from .schedule import ScheduleConfig
from .size_limits import MAX_LEVELS
from .unet import UNetConfig, parameter_shapes
from .weights_check import FLOAT_NAMES, TensorSpec, check_dtypes, check_specs, specs_of, tensor_specs

WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
_DOWN = {"DownBlock2D": False, "AttnDownBlock2D": True}
_UP = {"UpBlock2D": False, "AttnUpBlock2D": True}
# Settings of UNet2DModel this network does not implement, with the only value it supports.
_REQUIRED = {"center_input_sample": False, "time_embedding_type": "positional", "class_embed_type": None,
             "num_class_embeds": None, "resnet_time_scale_shift": "default", "downsample_type": "conv",
             "upsample_type": "conv", "downsample_padding": 1, "mid_block_scale_factor": 1, "act_fn": "silu"}


def is_diffusers_folder(folder: str | os.PathLike) -> bool:
    """True for a UNet2DModel folder or a pipeline folder holding one in ``unet/``, and for a folder that
    looks like one without its config.json (a diffusers weights file, ``unet/`` or ``model_index.json``),
    so that loading it says config.json is missing rather than that it is no checkpoint at all."""
    folder = Path(folder)
    return ((folder / "config.json").is_file() or (folder / "unet").is_dir() or (folder / "model_index.json").is_file()
            or any((folder / name).is_file() for name in WEIGHT_FILES))


#: UNetConfig field -> the config.json key it comes from (errors name the file's key)
_KEYS = {"channels": "block_out_channels", "layers_per_block": "layers_per_block", "down_attention": "down_block_types",
         "up_attention": "up_block_types", "mid_attention": "add_attention", "head_dim": "attention_head_dim",
         "norm_groups": "norm_num_groups", "norm_eps": "norm_eps", "dropout": "dropout", "in_channels": "in_channels",
         "out_channels": "out_channels", "time_dim": "time_embedding_dim", "flip_sin_to_cos": "flip_sin_to_cos",
         "freq_shift": "freq_shift"}


def unet_config_from_diffusers(config: dict[str, Any], source: str = "config.json") -> UNetConfig:
    """Translate a UNet2DModel config.json into a UNetConfig; unsupported settings and values out of bounds
    (size_limits.py) are errors naming the file and the config.json key."""
    cls = config.get("_class_name", "UNet2DModel")
    if cls != "UNet2DModel":
        raise ValueError(f"{source}: expected a diffusers UNet2DModel, got _class_name {short_repr(cls)}")
    for key, wanted in _REQUIRED.items():
        if key in config and config[key] != wanted:
            raise ValueError(f"{source}: {key}={short_repr(config[key])} is not supported (only {wanted!r})")
    groups = config.get("norm_num_groups", 32)
    if config.get("attn_norm_num_groups") not in (None, groups):
        raise ValueError(f"{source}: attn_norm_num_groups different from norm_num_groups is not supported")
    if config.get("mid_block_type", "UNetMidBlock2D") != "UNetMidBlock2D":
        raise ValueError(f"{source}: mid_block_type {short_repr(config.get('mid_block_type'))} is not supported")

    def listed(key: str, default: Any) -> tuple:
        value = config.get(key, default)
        if not isinstance(value, (list, tuple)) or len(value) > MAX_LEVELS:
            raise ValueError(f"{source}: {key}: expected a list of at most {MAX_LEVELS} entries, got {short_repr(value)}")
        return tuple(value)

    def kinds(key: str, table: dict[str, bool]) -> tuple[bool, ...]:
        out = []
        for name in listed(key, ()):
            if name not in table:
                raise ValueError(f"{source}: {key} entry {short_repr(name)} is not supported; expected one of {list(table)}")
            out.append(table[name])
        return tuple(out)

    try:
        return UNetConfig(channels=listed("block_out_channels", (224, 448, 672, 896)),
                          layers_per_block=config.get("layers_per_block", 2),
                          down_attention=kinds("down_block_types", _DOWN), up_attention=kinds("up_block_types", _UP),
                          mid_attention=config.get("add_attention", True), head_dim=config.get("attention_head_dim", 8),
                          norm_groups=groups, norm_eps=config.get("norm_eps", 1e-5), dropout=config.get("dropout", 0.0),
                          in_channels=config.get("in_channels", 3), out_channels=config.get("out_channels", 3),
                          time_dim=config.get("time_embedding_dim"), flip_sin_to_cos=config.get("flip_sin_to_cos", True),
                          freq_shift=config.get("freq_shift", 0))
    except ConfigError as err:  # named as model.FIELD: rename to the config.json key
        field = err.path.removeprefix("model.")
        base = field.split("[")[0]
        raise ValueError(f"{source}: {_KEYS.get(base, base)}{field[len(base):]}: {err.problem}") from None


def read_json(path: Path) -> Any:
    """A small JSON file (config.json, scheduler_config.json): size-limited, errors naming the file."""
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path}: {path.stat().st_size} bytes, over the {MAX_BYTES} a config may have")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: invalid JSON: {short_repr(str(err), 200)}") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply") from None


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
    return schedule_from_scheduler_config(read_json(path), path)


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


def _load_bin(path: Path) -> dict[str, Tensor]:
    """A diffusers ``.bin`` state dict, unpickled with ``weights_only`` (plain tensors only) and memory-mapped
    where the file allows, so its shapes can be checked before its data is read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            try:
                state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as err:  # an old (non-zip) file cannot be memory-mapped
                if "mmap" not in str(err):
                    raise
                state = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            raise ValueError(f"{path}: holds objects other than tensors (a pickle that would run code when "
                             "loaded); refused without running them. Use the model's .safetensors file, or save "
                             "its weights as safetensors from a trusted environment") from None
        except (RuntimeError, EOFError, OSError, ValueError) as err:
            raise ValueError(f"{path}: not a readable PyTorch weights file, perhaps truncated "
                             f"({' '.join(str(err).split())[:200]})") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in state.items()):
        raise ValueError(f"{path}: expected a state dict of named tensors, got {type(state).__name__}")
    return state


def _converted_specs(specs: dict[str, TensorSpec], source: str) -> dict[str, TensorSpec]:
    """The (shape, dtype) of each weight after ``convert_state_dict``, computed on meta tensors."""
    check_dtypes(specs, source)
    meta = {k: torch.empty(shape, dtype=FLOAT_NAMES[dtype], device="meta") for k, (shape, dtype) in specs.items()}
    try:
        return specs_of(convert_state_dict(meta))
    except (ValueError, RuntimeError) as err:
        raise ValueError(f"{source}: {' '.join(str(err).split())[:300]}") from None


def read_diffusers_unet(folder: str | os.PathLike) -> tuple[UNetConfig, ScheduleConfig, dict[str, Tensor]]:
    """(architecture, schedule, converted weights) of a diffusers UNet2DModel or pipeline folder. The schedule
    and the weights' names, shapes and dtypes are checked against config.json before any data is read."""
    root = Path(folder)
    config_path = unet_config_path(root)
    unet_dir = config_path.parent
    config = read_json(config_path)
    if not isinstance(config, dict):
        raise ValueError(f"{config_path}: expected a JSON object, got {type(config).__name__}")
    arch = unet_config_from_diffusers(config, str(config_path))
    schedule = schedule_from_diffusers(root)
    weights = next((unet_dir / n for n in WEIGHT_FILES if (unet_dir / n).is_file()), None)
    if weights is None:
        raise FileNotFoundError(f"{unet_dir}: no weights; expected one of {', '.join(WEIGHT_FILES)}")
    if weights.suffix == ".safetensors":
        specs = tensor_specs(weights)
        check_specs(_converted_specs(specs, str(weights)), parameter_shapes(arch), str(weights), str(config_path))
        from safetensors.torch import load_file

        state = load_file(str(weights))
    else:  # never unpickle arbitrary objects
        state = _load_bin(weights)
        check_specs(_converted_specs(specs_of(state), str(weights)), parameter_shapes(arch), str(weights),
                    str(config_path))
    return arch, schedule, convert_state_dict(state)
