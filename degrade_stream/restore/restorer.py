"""ResidualRestorer: a small x1 residual CNN (EDSR-style body, no batch norm) predicting a correction.

The last convolution starts at zero, so an untrained restorer is exactly the identity: a restorer that
learned nothing scores the same as no restoration, which makes the "identity init" row of the benchmark.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class _Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(torch.relu(self.conv1(x)))


class ResidualRestorer(nn.Module):
    """restored = lq + tail(body(head(lq))); ``width`` channels, ``blocks`` residual blocks."""

    def __init__(self, width: int = 48, blocks: int = 5) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(*[_Block(width) for _ in range(blocks)])
        self.tail = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, lq: Tensor) -> Tensor:
        return lq + self.tail(self.body(torch.relu(self.head(lq))))


def build_restorer(seed: int, width: int = 48, blocks: int = 5) -> ResidualRestorer:
    """A seeded restorer (the global RNG state is restored afterwards) whose tail is zero: identity at init."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ResidualRestorer(width, blocks)
    nn.init.zeros_(model.tail.weight)
    nn.init.zeros_(model.tail.bias)
    return model


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
