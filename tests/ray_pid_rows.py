"""A PairRows that also says which process made each row (the Ray test's proof that several actors ran).
Imported by the Ray workers by name: test_scale_ray.py puts tests/ on their PYTHONPATH."""
from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np

from degrade_stream.scale.rows import PairRows


class PidPairRows(PairRows):
    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        out = super().__call__(batch)
        out["pid"] = np.full(len(out["key"]), os.getpid(), dtype=np.int64)
        return out
