"""``evaluate --pairs DIR --config CHAIN``: content-matched realism of a chain on real pairs (paired.py).

Layout DIR/gt/NAME + DIR/lq/NAME (as ``synthesize`` writes and BasicSR's paired datasets read). The LQ
must be the HQ size divided by the chain's scale (the HQ first cropped to a multiple of it); every pair
is checked from its file header before any work, and an error names the file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import torch
from PIL import Image

from ..core.chain import Chain
from ..core.config import load_chain
from ..core.quantize import quantize8
from ..io import load_image
from ..restore.pairs import pair_files
from ..stream.seeds import sample_seeds
from .paired import over_seeds, paired_measures
from .realism import Settings


def _header_size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception as err:  # PIL raises many types for corrupt files
        raise ValueError(f"cannot read image {path}: {err}") from None
    return height, width


def check_pair_sizes(files: list[tuple[str, Path, Path]], scale: int, option: str = "--pairs") -> None:
    """Every LQ is its HQ's size (cropped to a multiple of ``scale``) divided by ``scale``; else an error naming both files."""
    for name, gt, lq in files:
        (h, w), (lh, lw) = _header_size(gt), _header_size(lq)
        want = (h // scale, w // scale)
        if (lh, lw) != want:
            raise ValueError(f"{option}: {lq} is {lw}x{lh} but {gt} is {w}x{h}; with the chain's scale {scale} "
                             f"the LQ must be {want[1]}x{want[0]} (pairs must be registered, same field of view)")


def synthesize_pairs_lq(chain: Chain, names: Sequence[str], hq: Sequence[torch.Tensor], seed: int,
                        device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """chain(H) of each pair (H cropped to a multiple of the scale), 8-bit levels, seeded by name."""
    scale = max(1, chain.scale)
    out = []
    with torch.no_grad():
        for name, image in zip(names, hq):
            h, w = image.shape[1] // scale * scale, image.shape[2] // scale * scale
            lq = chain(image[None, :, :h, :w].to(device), seed=sample_seeds(seed, 0, [name]), check=False).lq[0]
            out.append(quantize8(lq.clamp(0, 1)).cpu())
    return out


def evaluate_pairs(pairs: str | os.PathLike, config: str | os.PathLike, seeds: Sequence[int] = (0,),
                   patch_size: int = 32, patches_per_image: int = 64, seed: int = 0, steps: int = 300,
                   classifier: bool = True, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Content-matched measures of ``config``'s LQ of each real H against the real L, one row per synthesis seed."""
    files = pair_files(pairs, "--pairs")
    chain = load_chain(config)
    check_pair_sizes(files, max(1, chain.scale))
    names = [n for n, _, _ in files]
    hq = [load_image(g) for _, g, _ in files]
    real = [load_image(q) for _, _, q in files]
    chain.to(device)
    settings = Settings(seed=seed, steps=steps, classifier=classifier, device=str(device))
    rows = []
    for synthesis_seed in seeds:
        synth = synthesize_pairs_lq(chain, names, hq, synthesis_seed, device)
        rows.append({"synthesis_seed": int(synthesis_seed),
                     **paired_measures(names, real, synth, patch_size, patches_per_image, settings)})
    return {"pairs": str(pairs), "config": str(config), "scale": int(chain.scale), "scenes": len(names),
            "settings": {"patch_size": patch_size, "patches_per_image": patches_per_image, "seed": seed,
                         "classifier_steps": steps if classifier else 0, "synthesis_seeds": list(seeds)},
            "rows": rows, "over_seeds": over_seeds(rows) if len(rows) > 1 else None}
