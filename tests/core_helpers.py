"""Small user-defined transforms used to exercise the core protocol (registered as users would)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

import degrade_stream as ds
from degrade_stream.core.checks import check_prob, check_range


@ds.register("test_noise")
class NoiseForTest(ds.Transform):
    """Gaussian noise with per-sample sigma and a per-sample chance of being gray."""

    def __init__(self, sigma_range: tuple[float, float] = (0.01, 0.1), gray_prob: float = 0.5) -> None:
        self.sigma_range = check_range("sigma_range", sigma_range, low=0.0)
        self.gray_prob = check_prob("gray_prob", gray_prob)

    def sample_params(self, batch: Tensor, seeds: Tensor) -> ds.Params:
        rng = self.random(seeds, batch)
        b, c, h, w = batch.shape
        return {"sigma": rng.uniform(low=self.sigma_range[0], high=self.sigma_range[1]).reshape(b),
                "gray": rng.bernoulli(self.gray_prob).reshape(b),
                "noise": rng.normal(c, h, w)}

    def apply(self, batch: Tensor, params: ds.Params) -> Tensor:
        noise = torch.where(params["gray"][:, None, None, None], params["noise"][:, :1].expand_as(batch),
                            params["noise"])
        return (batch + params["sigma"][:, None, None, None] * noise).clamp(0, 1)


@ds.register("test_halve")
class HalveForTest(ds.Transform):
    """Deterministic 2x area downscale."""

    scale = 2

    def __init__(self) -> None:
        pass

    def apply(self, batch: Tensor, params: ds.Params) -> Tensor:
        return F.avg_pool2d(batch, 2)


CHAIN = {"name": "test", "stages": [{"type": "test_noise", "sigma_range": [0.02, 0.2], "gray_prob": 0.5},
                                    {"type": "test_halve"},
                                    {"type": "test_noise", "sigma_range": [0.0, 0.05]}]}
