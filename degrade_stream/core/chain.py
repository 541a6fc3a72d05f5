"""Chain: run stages in order with independent per-stage random streams; replay from params."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
from torch import Tensor

from .checks import check_image_batch
from .finite import check_finite_output
from .params_check import check_params_list
from .random import as_seed_tensor, derive_seeds
from .transform import Params, Transform

#: Input dtypes computed in float32 (torch's anti-aliased resize and our kernels need >= 32 bits); the LQ
#: is returned in the input's dtype.
HALF_DTYPES = (torch.float16, torch.bfloat16)


@dataclass
class ChainResult:
    """The synthesized LQ batch, one params dict per stage, and the per-sample seeds used."""

    lq: Tensor
    params: list[Params]
    seeds: Tensor | None = None
    hq: Tensor | None = field(default=None, repr=False)


class Chain:
    """Stages applied in order. Stage k draws from seeds derived from (sample seed, k)."""

    def __init__(self, stages: Sequence[Transform], name: str = "", description: str = "") -> None:
        for i, stage in enumerate(stages):
            if not isinstance(stage, Transform):
                raise TypeError(f"stages[{i}] must be a Transform, got {type(stage).__name__}")
        self.stages = list(stages)
        self.name = name
        self.description = description

    @property
    def scale(self) -> int:
        """Overall down-scaling factor (HQ size / LQ size)."""
        return math.prod(int(getattr(s, "scale", 1)) for s in self.stages)

    @property
    def min_input_side(self) -> int:
        """The smallest height and width (each) of an HQ image that every stage accepts. Sizes shrink by each
        stage's ``scale``, so the bound is folded from the last stage back to the first: stage k needs
        max(its own ``min_input_side``, (what stage k + 1 needs) x its scale)."""
        need = 1
        for stage in reversed(self.stages):
            own = max(1, int(getattr(stage, "min_input_side", 1)))
            need = max(own, need * max(1, int(getattr(stage, "scale", 1))))
        return need

    def __call__(self, hq: Tensor, seed: int | Tensor | None = None, params: list[Params] | None = None,
                 check: bool = True) -> ChainResult:
        """Synthesize LQ from an HQ batch (B,3,H,W) in [0,1]: from ``seed``, or replayed from ``params``.

        float16/bfloat16 input is computed in float32 and the LQ returned in the input dtype (the 8-bit
        levels survive: both keep k/255 within half a level); ``result.hq`` is the input itself."""
        if check:
            check_image_batch(hq, "hq")
        if hq.dtype in HALF_DTYPES:
            result = self(hq.float(), seed=seed, params=params, check=False)
            result.lq, result.hq = result.lq.to(hq.dtype), hq
            return result
        if params is None:
            seeds = as_seed_tensor(seed, hq.shape[0])
        else:
            seeds = None
            params = check_params_list(params, self.stages)
        x = hq
        used: list[Params] = []
        for k, stage in enumerate(self.stages):
            if params is None:
                p = stage.sample_params(x, derive_seeds(seeds, k))
            else:
                p = params[k]
                stage.check_params(x, p, f"params[{k}]")
            x = stage.apply(x, p)
            used.append(p)
        check_finite_output(x, f"the chain {self.name or '(unnamed)'}", seeds, hq)  # before clamp hides +-inf
        return ChainResult(lq=x.clamp(0.0, 1.0), params=used, seeds=seeds, hq=hq)

    def to(self, device: torch.device | str) -> "Chain":
        """Move stages that hold device state (e.g. a denoiser) to ``device``; returns self."""
        for stage in self.stages:
            if hasattr(stage, "to") and callable(stage.to):
                stage.to(device)
        return self

    def to_config(self) -> dict[str, Any]:
        """A plain dict that ``load_chain`` turns back into an identical chain."""
        config: dict[str, Any] = {}
        if self.name:
            config["name"] = self.name
        if self.description:
            config["description"] = self.description
        config["stages"] = [s.to_config() for s in self.stages]
        return config

    def config_hash(self) -> str:
        """A short stable hash of the stages' configuration (names and descriptions excluded)."""
        text = json.dumps([s.to_config() for s in self.stages], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(s) for s in self.stages)
        return f"Chain(name={self.name!r}, stages=[\n  {inner}\n])"

    def __len__(self) -> int:
        return len(self.stages)
