"""What a calibration reports: distances before/after, per-statistic shifts, and the arguments that moved."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..metrics.degradation_stats import COLOUR_FEATURES, FEATURE_NAMES
from ..metrics.realism import stats_frechet
from .space import SearchSpace


def shifts(real: Tensor, synth: Tensor) -> dict[str, float]:
    """Standardised mean difference per statistic: (mean synthetic - mean real) / pooled std."""
    pooled = torch.cat([real, synth]).to(torch.float64)
    std = pooled.std(0).clamp(min=1e-8)
    diff = (synth.to(torch.float64).mean(0) - real.to(torch.float64).mean(0)) / std
    return {name: round(float(v), 4) for name, v in zip(FEATURE_NAMES, diff)}


def distances(real: Tensor, synth: Tensor, terms: dict[str, float]) -> dict[str, float]:
    """``evaluate``'s two Fréchet distances (pooled standardisation) and the objective's terms."""
    out = {k: round(v, 4) for k, v in stats_frechet(real, synth).items()}
    out.update({f"objective_{k}" if k != "objective" else k: round(v, 4) for k, v in terms.items()})
    return out


def moved(space: SearchSpace, after: dict[str, Any]) -> list[dict[str, Any]]:
    """Every tuned argument whose value changed, from -> to."""
    rows = []
    for knob in space.knobs:
        before = space.current(knob)
        now = after["stages"][knob.stage][knob.name]
        if _plain(before) != _plain(now):
            rows.append({"argument": knob.label, "from": _plain(before), "to": _plain(now)})
    return rows


def _plain(value: Any) -> Any:
    return [float(v) for v in value] if isinstance(value, (list, tuple)) else float(value)


def format_table(report: dict[str, Any]) -> str:
    """The printed summary: distances, shifts before -> after, and the moved arguments."""
    before, after = report["distance_before"], report["distance_after"]
    lines = [f"calibrated {report['config']} on {report['target']} ({report['evaluated']} candidates, "
             f"seed {report['seed']})",
             f"{'distance':<34}{'before':>10}{'after':>10}"]
    for key in before:
        lines.append(f"{key:<34}{before[key]:>10.3f}{after[key]:>10.3f}")
    lines.append(f"{'shift (synthetic - real) / std':<34}{'before':>10}{'after':>10}")
    used = report["settings"]["colour"]
    for name in FEATURE_NAMES:
        mark = "" if used or name not in COLOUR_FEATURES else "  (not fitted)"
        lines.append(f"{name:<34}{report['shifts_before'][name]:>10.3f}{report['shifts_after'][name]:>10.3f}{mark}")
    lines.append(f"moved arguments: {len(report['moved'])} of {len(report['tuned'])} tuned")
    for row in report["moved"]:
        lines.append(f"  {row['argument']}: {row['from']} -> {row['to']}")
    return "\n".join(lines)
