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

GOLDEN: dict[str, str] = {  # since the 64-bit sample keys (issue 23 item 16)
    "benchmarks/city100_bicubic": "f40d7498da4d008854ef636a0fcb239cc192ceb80df2e12e5dccdaee4d9004f0",
    "benchmarks/city100_realesrgan_calibrated": "aa0f25c850dd27b7ca55dda0bc1610194766b6645e7e76b9f215aa5320a7fc21",
    "benchmarks/city100_realesrgan_calibrated_nojpeg": "4caa506af6a55d239c6329fc41a6128500d513c8328a629cf576ddfb56463a70",
    "benchmarks/city100_realesrgan_x1": "fe3e0c5244d252f7b7ba5394488b36e363c88ee2e1d99ecb601c7403590eaf37",
    "bicubic": "5794f0987fd2814b62133f691c1089a0fe9286074b14ef038abdd2af5b0a20da",
    "bsrgan": "d242f347e1b0521c7efa39d08476e93025699642edb02ca1a38c0db79cb22413",
    "classical": "1e6a515142619332e1a074caa3618ef782223d5536c149fc58deaac565e4aefd",
    "codeformer": "f7d1fc2589e58d5a4687b2c93e22d17e3888e1f2d9dad6a5fb0cc7ec2c2fa3d6",
    "gfpgan": "c6335bbbea89040cac1bbdbde3ba098a7b460659efae2cc894602a49377ac373",
    "identity": "e371bc3d0dd969901c07aaf5fb151d21aa1787649e314bdc05e97bbb0b578dd7",
    "realesrgan": "ec7cffed8bb5f4f1f17928c8b6586af32776a6a67c78191933d748e823c0d943",
    "realesrgan_ddpm": "23f9c55845fe52b975607ca44cd962b57f72083743df3f69d8587627ca860d78",
    "realesrgan_face": "9d9cef3ecaf2d90bffc327baabfc96f096bacad25af56eff875191e74d88c80e",
    "realesrgan_face_ddpm": "23dd9eb8a300ace7fa5a15ffbe9c5ca01b6c4299c1dfdc697549803a403677b5",
    "realesrgan_natural_calibrated": "bfe3e5b131d9919f8b2023b04bd54dfbaa7b95517c88c0931fc0e52baf9d75ba",
    "realesrgan_release": "b2c5c147111b1eb84081f284ab94dc5ebbed65902923c7c9b3457ad362487da9",
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
