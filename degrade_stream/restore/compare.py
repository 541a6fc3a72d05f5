"""The rows of ``degrade-stream compare-chains``: for each chain, realism against real LQ on the same scenes
and the restoration of real LQ by a restorer trained on that chain's pairs.

Realism: chain(H) of every pair vs its real L of the same scene at the same patch positions, as
``evaluate --pairs`` measures it (metrics/paired.py: per-pair PSNR/SSIM, paired Fréchet distance and KID of
degradation statistics in the real L's units, classifier split by scene; bootstrap intervals over scenes).
Downstream: one ResidualRestorer per (chain, seed), same network, steps and crops for every chain, then
PSNR/SSIM(restorer(L), H) on the test pairs (centre crops of ``eval_crop`` px, or whole images with 0).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import Tensor

from ..core.chain import Chain
from ..core.quantize import quantize8
from ..metrics.paired import paired_measures
from ..metrics.realism import Settings as RealismSettings
from ..metrics.structure import structure_scores
from ..stream.seeds import sample_seeds
from .pairs import PairSet
from .restorer import build_restorer, parameter_count
from .train_restorer import train_restorer


@dataclass
class Settings:
    """Everything that must be equal across chains for the comparison to be fair."""

    steps: int = 300
    seeds: Sequence[int] = (0, 1, 2)
    crop: int = 64
    batch_size: int = 16
    eval_crop: int = 256
    patch_size: int = 32
    patches_per_image: int = 64
    classifier_steps: int = 300
    device: str = "cpu"


def synthesize(chain: Chain, pairs: PairSet, seed: int = 0) -> list[Tensor]:
    """chain(H) of every pair, seeded by its name (as PairStream's epoch 0 would)."""
    out = []
    with torch.no_grad():
        for name, hq in zip(pairs.names, pairs.hq):
            out.append(chain(hq[None], seed=sample_seeds(seed, 0, [name]), check=False).lq[0].cpu())
    return out


def realism_on_pairs(chain: Chain, pairs: PairSet, s: Settings) -> dict[str, Any]:
    """Content-matched measures of chain(H) (8-bit levels, as written) vs the real L, each with its interval."""
    synth = [quantize8(x) for x in synthesize(chain, pairs)]
    return paired_measures(pairs.names, pairs.lq, synth, s.patch_size, s.patches_per_image,
                           RealismSettings(seed=0, steps=s.classifier_steps, device=s.device))


def centre_crop(image: Tensor, size: int) -> Tensor:
    """The centre ``size`` x ``size`` region (the whole image when ``size`` is 0 or larger than it)."""
    _, h, w = image.shape
    if size <= 0 or (size >= h and size >= w):
        return image
    ch, cw = min(size, h), min(size, w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return image[:, top:top + ch, left:left + cw]


def restore_scores(model: torch.nn.Module | None, pairs: PairSet, s: Settings) -> dict[str, float]:
    """Mean PSNR/SSIM(model(L), H) over the pairs (``model`` None: L itself, no restoration)."""
    psnr, ssim = [], []
    with torch.no_grad():
        for hq, lq in zip(pairs.hq, pairs.lq):
            hq, lq = centre_crop(hq, s.eval_crop), centre_crop(lq, s.eval_crop)
            out = lq if model is None else model(lq[None].to(s.device))[0].clamp(0, 1).cpu()
            p, q = structure_scores(hq, out)
            psnr.append(p)
            ssim.append(q)
    return {"psnr": statistics.mean(psnr), "ssim": statistics.mean(ssim)}


def _mean_std(values: list[float]) -> dict[str, float]:
    return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def downstream(chain: Chain, train: PairSet, test: PairSet, s: Settings, progress: bool = False,
               name: str = "") -> dict[str, Any]:
    """Train one restorer per seed on the chain's pairs from the train H; score each on the test pairs."""
    runs = []
    for seed in s.seeds:
        model = train_restorer(train.hq, chain, s.steps, seed, s.crop, s.batch_size, s.device, progress,
                               desc=f"{name} seed {seed}")
        runs.append({"seed": seed, **restore_scores(model, test, s)})
    return {"runs": runs, "psnr": _mean_std([r["psnr"] for r in runs]), "ssim": _mean_std([r["ssim"] for r in runs])}


def baselines(test: PairSet, s: Settings) -> dict[str, Any]:
    """No restoration (L vs H) and an untrained, identity-initialised restorer (must match it)."""
    model = build_restorer(0).to(s.device).eval()
    return {"no_restoration": restore_scores(None, test, s), "identity_init": restore_scores(model, test, s),
            "restorer_parameters": parameter_count(model)}


def compare_row(name: str, chain: Chain, train: PairSet, test: PairSet, s: Settings,
                progress: bool = False) -> dict[str, Any]:
    """One chain's row: realism on the test and train pairs, and the downstream restoration scores."""
    return {"chain": name, "realism": {"test": realism_on_pairs(chain, test, s),
                                       "train": realism_on_pairs(chain, train, s)},
            "restorer": downstream(chain, train, test, s, progress, name)}
