"""Fixing the diffusion step t of a chain: ``t_range: [t, t]`` on every ddpm_refine stage (sweep, demo)."""
from __future__ import annotations

import copy
from typing import Any

REFINE_STAGE = "ddpm_refine"


def parse_steps(text: str) -> list[int]:
    """``"0,50,100"`` -> [0, 50, 100]; integers >= 0, no repeats."""
    try:
        steps = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--t: expected comma-separated integers such as 0,50,100,200, got {text!r}") from None
    if not steps or any(t < 0 for t in steps) or len(set(steps)) != len(steps):
        raise ValueError(f"--t: expected distinct integers >= 0, got {text!r}")
    return steps


def config_at_step(config: dict[str, Any], t: int) -> dict[str, Any]:
    """A copy of a chain config with ``t_range: [t, t]`` on every ddpm_refine stage."""
    fixed = copy.deepcopy(config)
    stages = [s for s in fixed.get("stages") or [] if isinstance(s, dict) and s.get("type") == REFINE_STAGE]
    if not stages:
        raise ValueError(f"--config has no '{REFINE_STAGE}' stage whose t could be swept "
                         "(e.g. use realesrgan_ddpm)")
    for stage in stages:
        stage["t_range"] = [t, t]
    if "name" in fixed:
        fixed["name"] = f"{fixed['name']}_t{t}"
    return fixed
