"""Golden outputs of the ``ddpm_refine`` stage alone: SHA-256 of its uint8 output for each sampler path (DDIM with
fixed steps, DDIM with t_per_step, ancestral DDPM, eta > 0, a working size, the face model) at fixed inputs and
seeds, on the CPU with one thread. A refactor of the refiner must leave these unchanged; if a change is meant,
rerun ``python tests/test_refine_hashes.py`` and paste what it prints (and say why in the commit)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

import degrade_stream as ds
from degrade_stream.io import load_image

CASES: dict[str, dict] = {
    "ddim": {"t_range": [0, 250], "steps": 5},
    "ddim_eta": {"t_range": [0, 250], "steps": 5, "eta": 0.5},
    "ddim_per_t": {"t_range": [0, 250], "steps": 25, "t_per_step": 40},
    "ddpm": {"t_range": [0, 12], "sampler": "ddpm"},
    "ddim_native": {"t_range": [0, 250], "steps": 4, "working_size": None},
    "face": {"checkpoint": "bundled_face", "t_range": [0, 300], "steps": 4, "t_per_step": 100},
}

GOLDEN: dict[str, str] = {
    "ddim": "ca4cb3b4184d86bdce1477963b00a8685ac0b52d37ff229fa58dceb05f520695",
    "ddim_eta": "77980d2fae9adf6b3cd9130ac6849b5e05a061278ebf6523d47c7ba9f441d082",
    "ddim_native": "8284ec42e575a4ea90da2809d89120f17eb461f09d6be7b5b56323e4e4f24672",
    "ddim_per_t": "e8f04432fac6a9de53af415b0db384758efaa2369995ceff0f29d419bf99eb39",
    "ddpm": "f0e4b7184a494ed9b7b9b8c7d8ccde6207438663391d9a70afdd249c2398fba9",
    "face": "a1f6d908e5742f327d9f9cf2077c834f8604a162ebddea194fce22be02df0e3c",
}


def _input() -> torch.Tensor:
    data = Path(__file__).parent / "data" / "hq"
    butterfly, face = load_image(data / "swinir_set5__butterfly.png"), load_image(data / "mmagic_face__000001.png")
    return torch.stack([butterfly[:, 64:112, 96:136], face[:, 96:144, 96:136], butterfly[:, :48, :40]])


def refine_hash(name: str) -> str:
    """SHA-256 of the stage's uint8 output for ``CASES[name]`` on one CPU thread (seeds 3, 4, 5)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        chain = ds.load_chain({"stages": [{"type": "ddpm_refine", **CASES[name]}]})
        lq = chain(_input(), seed=torch.tensor([3, 4, 5])).lq
        return hashlib.sha256((lq * 255).round().to(torch.uint8).contiguous().numpy().tobytes()).hexdigest()
    finally:
        torch.set_num_threads(threads)


def test_every_case_has_a_golden_hash():
    assert set(GOLDEN) == set(CASES)


#: The two costliest cases (the face model; 12 ancestral steps) run in the full suite only.
SLOW_CASES = {"ddpm", "face"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in SLOW_CASES else name
                                  for name in sorted(CASES)])
def test_refine_hash(name):
    assert refine_hash(name) == GOLDEN[name], name


if __name__ == "__main__":
    for case in sorted(CASES):
        print(f'    "{case}": "{refine_hash(case)}",')
