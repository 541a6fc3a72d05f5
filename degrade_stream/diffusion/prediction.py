"""A network's output as the epsilon the samplers use, whatever it was trained to predict (issue 23 item 7).

With x_t = sqrt(a) x_0 + sqrt(1 - a) eps and a = abar_t (schedule.py), diffusers' three prediction types
(``DDPMScheduler.step``) convert as:
- ``epsilon``: the output is eps;
- ``sample``: the output is x_0, so eps = (x_t - sqrt(a) x_0) / sqrt(1 - a);
- ``v_prediction`` (Salimans & Ho 2022, sec. 4): v = sqrt(a) eps - sqrt(1 - a) x_0, so
  eps = sqrt(a) v + sqrt(1 - a) x_t.
The samplers then form the same x_0 estimate diffusers does, up to float rounding.
"""
from __future__ import annotations

from torch import Tensor

from .schedule import NoiseSchedule

PREDICTIONS = ("epsilon", "sample", "v_prediction")


def to_epsilon(output: Tensor, x_t: Tensor, t_index: Tensor, schedule: NoiseSchedule) -> Tensor:
    """eps from the network ``output`` at 0-based model indices ``t_index`` (step t = t_index + 1)."""
    kind = schedule.prediction
    if kind == "epsilon":
        return output
    a = schedule.abar(t_index.reshape(-1) + 1).to(output.dtype)
    x_t = x_t.to(output.dtype)
    if kind == "sample":
        return (x_t - a.sqrt() * output) / (1 - a).clamp(min=1e-12).sqrt()
    if kind == "v_prediction":
        return a.sqrt() * output + (1 - a).sqrt() * x_t
    raise ValueError(f"unknown prediction type {kind!r}; expected one of {PREDICTIONS}")
