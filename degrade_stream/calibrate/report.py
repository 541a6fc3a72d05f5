"""What a calibration reports: distances before/after, per-statistic shifts, and the arguments that moved."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..metrics.degradation_stats import COLOUR_FEATURES, FEATURE_NAMES
from ..metrics.degradation_stats import feature_columns
from ..metrics.frechet import frechet_between
from ..metrics.units import RealUnits
from .space import SearchSpace


def shifts(real: Tensor, synth: Tensor) -> dict[str, float]:
    """Mean difference per statistic in real units: (mean synthetic - mean real) / real std."""
    diff = RealUnits.fit(real)(synth).mean(0)
    return {name: round(float(v), 4) for name, v in zip(FEATURE_NAMES, diff)}


def real_unit_frechet(real: Tensor, synth: Tensor) -> dict[str, float]:
    """Fréchet distances in the real set's units (units.py): all statistics, and degradation statistics only."""
    units = RealUnits.fit(real)
    a, b = units(real), units(synth)
    keep = feature_columns(include_colour=False)
    return {"frechet_all": frechet_between(a, b), "frechet_degradation": frechet_between(a[:, keep], b[:, keep])}


def distances(real: Tensor, synth: Tensor, terms: dict[str, float]) -> dict[str, float]:
    """Fréchet distances in real units (the same positions as the real LQ in ``--pairs`` mode: the paired
    distance) and the objective's terms."""
    out = {k: round(v, 4) for k, v in real_unit_frechet(real, synth).items()}
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
    lines.append(f"{'shift (synthetic - real) / real std':<34}{'before':>10}{'after':>10}")
    used = report["settings"]["colour"]
    for name in FEATURE_NAMES:
        mark = "" if used or name not in COLOUR_FEATURES else "  (not fitted)"
        lines.append(f"{name:<34}{report['shifts_before'][name]:>10.3f}{report['shifts_after'][name]:>10.3f}{mark}")
    lines.append(f"moved arguments: {len(report['moved'])} of {len(report['tuned'])} tuned")
    for row in report["moved"]:
        lines.append(f"  {row['argument']}: {row['from']} -> {row['to']}")
    return "\n".join(lines)
