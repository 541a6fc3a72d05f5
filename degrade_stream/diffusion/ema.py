"""Exponential moving average of the weights, on ``torch.optim.swa_utils.AveragedModel``.

Fixed decay (the paper: 0.995) or the warm-up used by diffusers' training examples (the authors'
release): decay_n = min(max_decay, 1 - (1 + n)^-power), power 3/4 (diffusers ``EMAModel``,
``use_ema_warmup=True``, ``inv_gamma=1``).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


class EMA:
    """An AveragedModel whose decay is computed in Python from the update count (no device sync)."""

    def __init__(self, model: nn.Module, decay: float, warmup: bool = False, power: float = 0.75) -> None:
        self.max_decay = decay
        self.warmup = warmup
        self.power = power
        self.updates = 0
        self._decay_now = decay
        self.averaged = AveragedModel(model, multi_avg_fn=self._lerp, use_buffers=True)

    def decay_at(self, n: int) -> float:
        """The decay for the n-th update (n counts from 1)."""
        if not self.warmup:
            return self.max_decay
        return min(self.max_decay, 1.0 - (1.0 + n) ** -self.power)

    def _lerp(self, ema_params: list, params: list, num_averaged) -> None:
        torch._foreach_lerp_(ema_params, params, 1.0 - self._decay_now)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the model's current weights in (the first update copies them)."""
        self.updates += 1
        self._decay_now = self.decay_at(self.updates)
        self.averaged.update_parameters(model)

    @property
    def module(self) -> nn.Module:
        return self.averaged.module

    def state_dict(self) -> dict:
        return {"updates": self.updates, "n_averaged": self.averaged.n_averaged.detach().cpu()}

    def load_state_dict(self, state: dict, weights: dict) -> None:
        """Restore the counters and the averaged weights."""
        self.updates = int(state["updates"])
        self.averaged.n_averaged.copy_(state["n_averaged"])
        self.averaged.module.load_state_dict(weights)
