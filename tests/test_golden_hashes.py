"""Golden outputs: the SHA-256 of the uint8 LQ of every shipped chain (configs/chains and benchmarks/chains) at fixed
inputs and seeds, on the CPU with one thread. A changed hash means the chain's output changed: if that is meant,
rerun ``python tests/test_golden_hashes.py`` and paste what it prints (and say why in the commit).

Inputs: two 64x64 crops of tests/data/hq (a 64x80 one too, for sizes that are not square), seeds 5 and 6 (7 and 8).
Hashes are of this torch version's CPU arithmetic on x86; another BLAS or instruction set may round differently."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

import degrade_stream as ds
from degrade_stream.io import load_image

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_CHAINS = {f"benchmarks/{p.stem}": p for p in sorted((ROOT / "benchmarks" / "chains").glob("*.yaml"))}
CHAINS = {**{name: name for name in ds.named_configs("chains")}, **BENCHMARK_CHAINS}

GOLDEN: dict[str, str] = {
    "benchmarks/city100_bicubic": "f40d7498da4d008854ef636a0fcb239cc192ceb80df2e12e5dccdaee4d9004f0",
    "benchmarks/city100_realesrgan_calibrated": "00c998bd9e41a22a71330f7d4aaa660e3fc83d0aa1bcc323a657db65a4af26d7",
    "benchmarks/city100_realesrgan_calibrated_nojpeg": "2e1cd45fc3c990d887eae1d2dea84219001e435fc44bdbd242386c2caa4308f1",
    "benchmarks/city100_realesrgan_x1": "12b69b68932bd7e7b9ef01a9b1e085ccfb389be51a3ae8e146030a38fe6fa183",
    "bicubic": "5794f0987fd2814b62133f691c1089a0fe9286074b14ef038abdd2af5b0a20da",
    "bsrgan": "96404a553e44a0ff5bd0a907d8da655383476f686a2e114f013ac99340178fe3",
    "classical": "61f503e10fe5606f921e79d89023178c266bdfb05551e912f35b67d6dafc8be1",
    "codeformer": "efc6e65b3a5607840049769a216bd369f68d564c2675b970401a979fe73839cc",
    "gfpgan": "7791f875f3ff0fe5d0ea6c42dff45c15995b5515b8d41ce2212fe647f63d78eb",
    "identity": "e371bc3d0dd969901c07aaf5fb151d21aa1787649e314bdc05e97bbb0b578dd7",
    "realesrgan": "8cf17fdad846ac9a71e0da0a81168b08e558e240cd58ede5874b4da29c0743fa",
    "realesrgan_ddpm": "d611a4a66373e72943e52012f0b340d4a94fa87a47b043e184b5a9bb514d4ee6",
    "realesrgan_face": "f5e02d8088b68511128135268b43f52a8f2d47a152b46de69c9b810e305faa3e",
    "realesrgan_face_ddpm": "1d979e1ca66b901681843a67eb5a99d96a76ce73b5b4b756260787a6b73d2066",
    "realesrgan_natural_calibrated": "e56f093eb4d58078166e99b432350d1bc2f25003d46e65301885fbe3c9067e35",
    "realesrgan_release": "8bfe85d852116b0f4994bcd81aa6e60c183c295ce4862f9a64df58ceaf98e82b",
}


def _inputs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    data = Path(__file__).parent / "data" / "hq"
    butterfly, face = load_image(data / "swinir_set5__butterfly.png"), load_image(data / "mmagic_face__000001.png")
    square = torch.stack([butterfly[:, 64:128, 96:160], face[:, 96:160, 96:160]])
    wide = torch.stack([butterfly[:, :64, :80], face[:, 100:164, 60:140]])
    return [(square, torch.tensor([5, 6])), (wide, torch.tensor([7, 8]))]


def lq_hash(spec: str | Path) -> str:
    """SHA-256 of the chain's uint8 LQ for every input, in order, computed on one CPU thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        chain = ds.load_chain(spec)
        digest = hashlib.sha256()
        for hq, seeds in _inputs():
            lq = chain(hq, seed=seeds).lq
            digest.update((lq * 255).round().to(torch.uint8).contiguous().numpy().tobytes())
        return digest.hexdigest()
    finally:
        torch.set_num_threads(threads)


def test_every_shipped_chain_has_a_golden_hash():
    assert set(GOLDEN) == set(CHAINS), sorted(set(CHAINS) ^ set(GOLDEN))


#: over ~5 s on one thread: the face refiner runs 50 DDIM steps at 128 px
SLOW = {"realesrgan_face_ddpm"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(CHAINS)])
def test_golden_hash(name):
    assert lq_hash(CHAINS[name]) == GOLDEN[name], name


if __name__ == "__main__":
    for chain_name in sorted(CHAINS):
        print(f'    "{chain_name}": "{lq_hash(CHAINS[chain_name])}",')
