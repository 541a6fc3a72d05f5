"""Shared fixtures: small HQ/LQ test images shipped in tests/data (no ../shared needed)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def hq_batch() -> torch.Tensor:
    """(8, 3, 64, 64) crops of the HQ test images, in [0, 1]."""
    from degrade_stream.io import list_images, load_image

    crops = []
    for path in list_images(DATA / "hq"):
        img = load_image(path)
        for y, x in ((0, 0), (96, 96)):
            crops.append(img[:, y:y + 64, x:x + 64])
    return torch.stack(crops[:8])


@pytest.fixture(autouse=True)
def _isolated_torch_rng():
    """Every test starts from the same global torch RNG state, and a test that seeds it (to build a
    random network, say) cannot change what later tests draw: results do not depend on test order."""
    with torch.random.fork_rng(devices=[]):
        yield
