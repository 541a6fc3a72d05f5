"""``train-ddpm --init``: start a new run from another model's weights (fine-tuning), with a fresh optimizer.

The user's workflow of issue 21: a model trained on many real LQ photos (the bundled natural model, or any
checkpoint) fine-tuned on a few hundred real LQ images of one device. Only the weights are taken (the EMA
weights where the checkpoint has them, as sampling uses); the step count, optimizer, learning-rate schedule
and EMA start afresh from the recipe. The source's architecture must be the recipe's (names and shapes, read
from the file's header before anything is loaded), and its noise schedule and colour space must be the
recipe's too: a model fine-tuned under another schedule would relearn every noise level from a wrong start.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from .checkpoint import EMA_FILE, MODEL_FILE, read_architecture, read_config, read_weights
from .diffusers_import import read_diffusers_unet
from .train_config import TrainConfig
from .unet import parameter_shapes
from .weights_check import check_specs, specs_of, tensor_specs


@dataclass
class InitWeights:
    """The weights a run starts from and the file they came from (for the log and errors)."""

    state: dict[str, Tensor]
    source: Path


def init_weights(spec: str, config: TrainConfig, recipe: str = "the recipe") -> InitWeights:
    """The weights named by ``spec`` (``bundled``, ``bundled_face``, a train-ddpm ``--out`` or ``step_*`` folder,
    a .safetensors file in one, or a diffusers UNet folder), checked against ``config``'s model section,
    schedule and colour space; errors name the file, the tensor or the key, and ``recipe``."""
    from .denoiser import resolve_spec  # denoiser imports the sampling stack; keep train_loop.py's imports light

    kind, folder = resolve_spec(spec)
    expected = parameter_shapes(config.model)
    where = f"{recipe}'s model section"
    if kind == "diffusers":
        _, schedule, state = read_diffusers_unet(folder)
        check_specs(specs_of(state), expected, str(folder), where)
        _check_same(folder, "schedule", schedule.to_dict(), config.schedule.to_dict(), recipe)
        _check_same(folder, "chroma_gain", None, config.chroma_gain, recipe)
        return InitWeights(state, folder)
    if kind == "project-file":
        path, ckpt = folder, folder.parent
    else:
        path, ckpt = (folder / EMA_FILE if (folder / EMA_FILE).is_file() else folder / MODEL_FILE), folder
    if not path.is_file():
        raise FileNotFoundError(f"--init {spec}: {path}: missing weights file")
    _, schedule = read_architecture(ckpt)
    source_config = ckpt / "config.yaml"
    _check_same(source_config, "schedule", schedule.to_dict(), config.schedule.to_dict(), recipe)
    _check_same(source_config, "chroma_gain", read_config(ckpt).get("chroma_gain"), config.chroma_gain, recipe)
    check_specs(tensor_specs(path), expected, str(path), where)  # names and shapes from the header first
    return InitWeights(read_weights(path), path)


def _check_same(source: Path, key: str, theirs: object, ours: object, recipe: str) -> None:
    if theirs != ours:
        raise ValueError(f"--init: {source}: '{key}' is {theirs!r} but {recipe} has {ours!r}; fine-tuning needs the "
                         f"same {key} (use a recipe whose {key} matches the model)")
