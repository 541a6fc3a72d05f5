"""The refiner's model, loaded explicitly: a ``DenoiserHandle`` names one checkpoint (with its EMA, precision and
compile settings) and loads its denoiser once per device, on first use or when moved there with ``to``.

Each ``ddpm_refine`` stage holds its own handle, so two chains never share a model unless told to
(``DDPMRefine.share_model``); there is no process-wide cache. ``read_config`` reads the checkpoint's config files
(its schedule and working size, no weights) for the stage to check its arguments against the model when it
is built. A handle pickles without its loaded models (a DataLoader worker loads its own).
"""
from __future__ import annotations

import threading
from typing import Any

import torch

from .denoiser import Denoiser, checkpoint_schedule, checkpoint_working_size, load_colour_space, load_unet
from .schedule import ScheduleConfig


def _device_key(device: torch.device | str) -> torch.device:
    """One key per physical device: 'cuda' is the current GPU, 'cpu:0' is 'cpu'."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    if device.type == "cpu":
        device = torch.device("cpu")
    return device


class DenoiserHandle:
    """One checkpoint's denoiser, loaded once per device (on first use, or by ``to``)."""

    def __init__(self, checkpoint: str, ema: bool = True, precision: str = "auto", compile: bool = False) -> None:
        self.checkpoint, self.ema, self.precision, self.compile = checkpoint, ema, precision, compile
        self._loaded: dict[torch.device, Denoiser] = {}
        self._lock = threading.Lock()  # prefetch threads of one stream may ask at once

    def read_schedule(self) -> ScheduleConfig:
        """The checkpoint's noise schedule, read from its config files (no weights)."""
        return checkpoint_schedule(self.checkpoint)

    def read_working_size(self) -> int | None:
        """The shorter side the checkpoint was trained at (its config.yaml; None: native, and for diffusers)."""
        return checkpoint_working_size(self.checkpoint)

    def get(self, device: torch.device | str) -> Denoiser:
        """The denoiser on ``device``, loaded from the checkpoint the first time it is asked for there."""
        device = _device_key(device)
        with self._lock:
            denoiser = self._loaded.get(device)
            if denoiser is None:
                model, schedule = load_unet(self.checkpoint, ema=self.ema)
                denoiser = Denoiser(model, schedule, device, self.precision, self.compile,
                                    load_colour_space(self.checkpoint))
                self._loaded[device] = denoiser
            return denoiser

    def to(self, device: torch.device | str) -> Denoiser:
        """Load the denoiser on ``device`` now and release it on every other device (a move)."""
        denoiser = self.get(device)
        with self._lock:
            self._loaded = {_device_key(device): denoiser}
        return denoiser

    def loaded_devices(self) -> list[str]:
        """The devices this handle holds a loaded denoiser on."""
        return [str(d) for d in self._loaded]

    def release(self) -> None:
        """Drop every loaded denoiser (frees its memory; the next use loads again)."""
        with self._lock:
            self._loaded = {}

    def same_model(self, other: "DenoiserHandle") -> bool:
        """Whether ``other`` names the same checkpoint with the same settings."""
        return (self.checkpoint, self.ema, self.precision, self.compile) == \
            (other.checkpoint, other.ema, other.precision, other.compile)

    def __getstate__(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint, "ema": self.ema, "precision": self.precision, "compile": self.compile}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def __repr__(self) -> str:
        return (f"DenoiserHandle({self.checkpoint!r}, ema={self.ema}, precision={self.precision!r}, "
                f"compile={self.compile}, loaded on {self.loaded_devices()})")
