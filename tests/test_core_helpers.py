"""The shared helpers written once (issue 16): 8-bit quantisation and device resolution."""
from __future__ import annotations

import pytest
import torch

from degrade_stream.core.device import default_device, local_rank, resolve_device
from degrade_stream.core.quantize import levels8, quantize8, uint8_levels


def test_quantize8_clamps_then_rounds_half_to_even():
    x = torch.tensor([-0.5, 0.0, 0.5 / 255, 1.5 / 255, 2.5 / 255, 0.5, 1.0, 3.0])
    assert levels8(x).tolist() == [0.0, 0.0, 0.0, 2.0, 2.0, 128.0, 255.0, 255.0]
    assert torch.equal(quantize8(x), levels8(x) / 255.0)
    assert uint8_levels(x).dtype == torch.uint8
    assert uint8_levels(x).tolist() == [0, 0, 0, 2, 2, 128, 255, 255]


def test_quantize8_matches_every_former_copy_bit_for_bit():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(4, 3, 17, 19, generator=g) * 1.4 - 0.2
    assert torch.equal(quantize8(x), (x * 255.0).round().clamp(0.0, 255.0) / 255.0)
    assert torch.equal(uint8_levels(x), (x.clamp(0, 1) * 255.0).round_().to(torch.uint8))  # stream/cache.py
    inside = x.clamp(0, 1)
    assert torch.equal(quantize8(inside), (inside * 255.0).round() / 255.0)  # cli/pair_writer.py _load_hq


def test_local_rank_and_default_device_follow_torchrun(monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert local_rank() == 0
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert local_rank() == 3
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == torch.device("cpu")
    assert resolve_device(None) == resolve_device("auto") == torch.device("cpu")


def test_resolve_device_names_the_option_on_bad_input(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match=r"^--device cuda:1: CUDA is not available on this machine"):
        resolve_device("cuda:1")
    with pytest.raises(ValueError, match=r"^--where: "):
        resolve_device("nonsense", option="--where")
