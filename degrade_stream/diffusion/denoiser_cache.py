"""One denoiser per (checkpoint, EMA or not, device, precision, compile) per process, shared by every
stage and chain that names it. Stages hold only the key, so they stay small and picklable."""
from __future__ import annotations

import threading

import torch

from .denoiser import Denoiser, load_colour_space, load_unet, resolve_spec

_CACHE: dict[tuple, Denoiser] = {}
_LOCK = threading.Lock()


def get_denoiser(checkpoint: str, device: torch.device | str, ema: bool = True, precision: str = "auto",
                 compile: bool = False) -> Denoiser:
    """The shared denoiser for these settings, loaded on first use."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    kind, folder = resolve_spec(checkpoint)
    key = (kind, str(folder.resolve()), ema, str(device), precision, compile)
    with _LOCK:
        denoiser = _CACHE.get(key)
        if denoiser is None:
            model, schedule = load_unet(checkpoint, ema=ema)
            denoiser = Denoiser(model, schedule, device, precision, compile, load_colour_space(checkpoint))
            _CACHE[key] = denoiser
        return denoiser


def clear_denoisers() -> None:
    """Drop every cached denoiser (frees their memory)."""
    with _LOCK:
        _CACHE.clear()


def cached_count() -> int:
    return len(_CACHE)
