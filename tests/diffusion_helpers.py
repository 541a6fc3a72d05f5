"""Tiny random denoisers for the diffusion tests: small enough that a sampling loop takes milliseconds."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from degrade_stream.diffusion.checkpoint import write_checkpoint
from degrade_stream.diffusion.train_config import TrainConfig
from degrade_stream.diffusion.unet import UNet, UNetConfig

MICRO = UNetConfig(channels=(8, 16), layers_per_block=1, down_attention=(False, True), norm_groups=4, head_dim=8)


def micro_train_config(**overrides) -> TrainConfig:
    """A recipe for a few-second CPU training run on 16px crops."""
    data = {"model": MICRO.to_dict(), "loss": "mse", "lr": 2e-3, "batch_size": 4, "crop": 16, "steps": 20,
            "checkpoint_every": 10, "keep_checkpoints": 0, "log_every": 1, "num_workers": 0, "ema_decay": 0.9}
    data.update(overrides)
    return TrainConfig.from_dict(data)


def micro_checkpoint(folder: Path, seed: int = 0) -> Path:
    """A project checkpoint folder holding a randomly initialised micro UNet (weights = EMA)."""
    torch.manual_seed(seed)
    model = UNet(MICRO)
    with torch.no_grad():  # random but not tiny outputs, so sampling visibly changes the input
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    state = model.state_dict()
    config = micro_train_config().to_dict()
    return write_checkpoint(folder, 1, state, state, None, config)


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Run a test module with one intra-op thread: on a shared 2-core CI machine two OpenMP threads
    per process wait on each other at every barrier and small ops get ~100x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
