"""The project's checkpoint folders: written atomically, read without unpickling arbitrary objects.

A training run's ``--out`` folder holds ``step_NNNNNNNN/`` checkpoint folders and a ``latest`` file
naming the newest. Each checkpoint folder holds:

- ``model.safetensors``: the trained weights; ``ema.safetensors``: their exponential moving average
- ``state.pt``: step, optimizer, learning-rate schedule and RNG states (plain tensors and numbers,
  read with ``torch.load(weights_only=True)``)
- ``config.yaml``: the resolved training config, including the full UNet architecture and schedule

A checkpoint is first written into a hidden temporary folder and renamed into place, and ``latest``
is replaced atomically afterwards, so an interrupted write never leaves a folder that loads.
"""
from __future__ import annotations

import os
import pickle
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from ..atomic import atomic_folder, remove_stale_temps, write_error, write_text_atomic
from ..core.config import read_yaml
from .schedule import ScheduleConfig
from .unet import UNetConfig, parameter_shapes
from .weights_check import check_dtypes, check_specs, specs_of, tensor_specs

MODEL_FILE = "model.safetensors"
EMA_FILE = "ema.safetensors"
STATE_FILE = "state.pt"
CONFIG_FILE = "config.yaml"
LATEST_FILE = "latest"
#: What train-ddpm's state.pt holds (cuda_rng too when trained on a GPU).
TRAIN_STATE_KEYS = ("step", "optimizer", "lr_scheduler", "ema", "torch_rng")
_STEP_NAME = re.compile(r"^step_\d+$")


def _plain_state(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Detached contiguous CPU copies (safetensors refuses shared or strided storage)."""
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}


def write_checkpoint(out_dir: str | os.PathLike, step: int, model: dict[str, Tensor], ema: dict[str, Tensor] | None,
                     train_state: dict[str, Any] | None, config: dict[str, Any], keep: int = 0) -> Path:
    """Write checkpoint ``step`` into ``out_dir`` atomically, point ``latest`` at it, prune to ``keep`` (0: all)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_checkpoint_temps(out)
    name = f"step_{step:08d}"
    with atomic_folder(out / name) as tmp:  # re-writing a step (a resumed run's final one) replaces it
        _write(out / name / MODEL_FILE, lambda: save_file(_plain_state(model), str(tmp / MODEL_FILE)))
        if ema is not None:
            _write(out / name / EMA_FILE, lambda: save_file(_plain_state(ema), str(tmp / EMA_FILE)))
        if train_state is not None:
            _write(out / name / STATE_FILE, lambda: torch.save(train_state, tmp / STATE_FILE))
        _write(out / name / CONFIG_FILE, lambda: (tmp / CONFIG_FILE).write_text(
            yaml.safe_dump(config, sort_keys=False), encoding="utf-8"))
    write_text_atomic(out / LATEST_FILE, name + "\n")
    if keep > 0:
        for stale in list_checkpoints(out)[:-keep]:
            shutil.rmtree(stale)
    return out / name


#: The names a training run writes atomically into its --out: the only temp files its cleanup may remove.
_RUN_WRITES = re.compile(r"^(step_\d+|latest|train_log\.csv)$")


def _write(path: Path, write: Any) -> None:
    """Run ``write``; a failure (a full disk above all) is an OSError naming ``path``, the file it was writing."""
    try:
        write()
    except (SafetensorError, RuntimeError, OSError) as err:
        raise write_error(err, path) from None


def remove_stale_checkpoint_temps(out_dir: str | os.PathLike) -> int:
    """Delete the temp ``.step_*`` folders and files of checkpoint writers that were killed, by the rule
    synthesize uses for its temp files (``atomic.is_stale_temp``), and only those of names a run writes
    (``step_N``, ``latest``, ``train_log.csv``): a user's own files in the folder are never touched."""
    return remove_stale_temps(Path(out_dir), owns=lambda target: _RUN_WRITES.match(target) is not None)


def list_checkpoints(out_dir: str | os.PathLike) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first."""
    out = Path(out_dir)
    if not out.is_dir():
        return []
    return sorted(p for p in out.glob("step_*") if p.is_dir() and (p / CONFIG_FILE).is_file())


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """The checkpoint folder for a run folder (via ``latest``) or a checkpoint folder itself."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.is_file():
        raise ValueError(f"{path}: expected a checkpoint folder (with {CONFIG_FILE}) or a training --out folder")
    if (path / LATEST_FILE).is_file():
        try:
            name = (path / LATEST_FILE).read_text(encoding="utf-8").strip()
        except UnicodeDecodeError:
            name = ""
        if not _STEP_NAME.match(name):
            raise ValueError(f"{path / LATEST_FILE}: expected the name of a step_NNNNNNNN folder, found {name[:40]!r}")
        folder = path / name
        if not (folder / CONFIG_FILE).is_file():
            raise FileNotFoundError(f"{path / LATEST_FILE} names {name!r}, which is not a complete checkpoint folder")
        return folder
    if (path / CONFIG_FILE).is_file():
        return path
    raise FileNotFoundError(f"{path}: not a checkpoint: no {LATEST_FILE} or {CONFIG_FILE} file")


def read_config(folder: Path) -> dict[str, Any]:
    """The config.yaml of a checkpoint folder (yaml.safe_load)."""
    path = folder / CONFIG_FILE
    data = read_yaml(path)
    if not isinstance(data, dict) or "model" not in data:
        raise ValueError(f"{path}: expected a mapping with a 'model' section (the UNet architecture)")
    return data


def read_weights(path: Path) -> dict[str, Tensor]:
    """A safetensors file as a state dict; a missing, truncated or foreign file, or one holding tensors that
    are not floating point (int8, bool, ...), is an error naming it (and the tensor)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing weights file")
    check_dtypes(tensor_specs(path), str(path))  # from the header: refused before any data is read
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ValueError(f"{path}: not a readable safetensors weights file, perhaps truncated or written by "
                         f"something else ({' '.join(str(err).split())[:200]})") from None


def read_weights_for(path: Path, arch: UNetConfig, config_source: str) -> dict[str, Tensor]:
    """``read_weights`` after checking the file's header (names, shapes, dtypes, size) against ``arch``, the
    architecture in ``config_source``: nothing is loaded or built for weights that do not fit it."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing weights file")
    check_specs(tensor_specs(path), parameter_shapes(arch), str(path), config_source)
    return read_weights(path)


def check_checkpoint_weights(folder: Path, arch: UNetConfig) -> None:
    """The headers of a checkpoint's model and EMA weights checked against ``arch`` (names, shapes, dtypes,
    size) before a run resumes from it: nothing is built for a config.yaml that its weights do not match."""
    for name in (MODEL_FILE, EMA_FILE):
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing weights file; this checkpoint cannot be resumed")
        check_specs(tensor_specs(path), parameter_shapes(arch), str(path), str(folder / CONFIG_FILE))


def read_architecture(folder: Path) -> tuple[UNetConfig, ScheduleConfig]:
    """(architecture, schedule) of a checkpoint folder's config.yaml; errors name the file and the key."""
    config = read_config(folder)
    try:
        arch = UNetConfig.from_dict(config["model"], "model")
        schedule = ScheduleConfig.from_dict(config.get("schedule", {}), "schedule")
    except (ValueError, TypeError) as err:
        raise ValueError(f"{folder / CONFIG_FILE}: {err}") from None
    return arch, schedule


def read_model(folder: Path, ema: bool = True, weights: bool = True
               ) -> tuple[UNetConfig, ScheduleConfig, dict[str, Tensor] | None]:
    """(architecture, schedule, weights) of a checkpoint folder; EMA weights unless ``ema`` is False. The weights
    are checked against the architecture before they are read (``read_weights_for``)."""
    arch, schedule = read_architecture(folder)
    if not weights:
        return arch, schedule, None
    return arch, schedule, read_weights_for(folder / (EMA_FILE if ema else MODEL_FILE), arch,
                                            str(folder / CONFIG_FILE))


def read_train_state(folder: Path) -> dict[str, Any]:
    """The optimizer/step/RNG state of a checkpoint (torch.load with weights_only=True)."""
    path = folder / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; this checkpoint cannot be resumed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's pickle-protocol notes; the outcome is reported below
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError(f"{path}: holds objects other than tensors and plain values; refused without running "
                         "them (weights_only); this checkpoint cannot be resumed") from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable training state, perhaps truncated "
                         f"({' '.join(str(err).split())[:200]}); this checkpoint cannot be resumed") from None
    missing = [k for k in TRAIN_STATE_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise ValueError(f"{path}: not a training state written by train-ddpm (missing {', '.join(missing)}); "
                         "this checkpoint cannot be resumed")
    return state


def load_state_checked(module: torch.nn.Module, state: dict[str, Tensor], source: str) -> None:
    """``load_state_dict`` with an error that names the file and the mismatching keys or shapes."""
    own = module.state_dict()
    check_dtypes(specs_of(state), source)
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} weights (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} weights (e.g. {', '.join(unexpected[:3])})")
        if shapes:
            parts.append(f"wrong shapes ({'; '.join(shapes[:3])})")
        raise ValueError(f"{source}: the weights do not match the architecture in the config: " + "; ".join(parts))
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


def export_model(checkpoint: str | os.PathLike, dest: str | os.PathLike, notes: dict[str, Any] | None = None) -> Path:
    """Copy a checkpoint's EMA weights and architecture into a small inference-only folder
    (config.yaml with ``model``, ``schedule`` and optional ``notes``; ema.safetensors), atomically."""
    src = resolve_checkpoint(checkpoint)
    config = read_config(src)
    slim = {"model": config["model"], "schedule": config.get("schedule", {})}
    if config.get("chroma_gain") is not None:  # the colour space the model diffuses in (colour_space.py)
        slim["chroma_gain"] = config["chroma_gain"]
    if config.get("working_size") is not None:  # the resolution the model was trained at (train_data.py)
        slim["working_size"] = config["working_size"]
    if notes:
        slim["notes"] = notes
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"{dest} exists and is not a folder")
    with atomic_folder(dest) as tmp:
        save_file(_plain_state(read_weights(src / EMA_FILE)), str(tmp / EMA_FILE))
        (tmp / CONFIG_FILE).write_text(yaml.safe_dump(slim, sort_keys=False), encoding="utf-8")
    return dest
