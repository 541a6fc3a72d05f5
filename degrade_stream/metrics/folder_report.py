"""Evaluate a folder of synthesized LQ: structure against its HQ, realism against real LQ, optional FID."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from ..io import flat_name, list_images, load_image
from .image_patches import folder_patch_set
from .realism import RealReference, Settings
from .scale import scale_warning, size_distribution
from .structure import structure_scores, summarize_psnr

_VARIANT_SUFFIX = re.compile(r"_v\d+$")
MIN_PATCHES_FRECHET = 2  # a covariance needs two samples (frechet.py)
MIN_PATCHES_CLASSIFIER = 4  # a train and a test half of at least two per class (two_sample.py)
MIN_IMAGES_CLASSIFIER = 2  # one image to train on and one to test on, per class


def synth_layout(synth: str | os.PathLike, hq: str | os.PathLike | None) -> tuple[Path, Path | None]:
    """(LQ folder, HQ folder): a synthesize output folder (with lq/ and gt/) is understood as such."""
    synth = Path(synth)
    if not synth.is_dir():
        raise FileNotFoundError(f"--synth: not a folder: {synth}")
    lq_dir = synth / "lq" if (synth / "lq").is_dir() else synth
    if hq is None and lq_dir != synth and (synth / "gt").is_dir():
        return lq_dir, synth / "gt"
    return lq_dir, Path(hq) if hq is not None else None


def match_pairs(hq_dir: Path, lq_dir: Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(HQ, LQ) file pairs matched by name (lq/x_v3 pairs with gt/x), and the LQ names without an HQ."""
    hq_by_name = {flat_name(p.relative_to(hq_dir)): p for p in list_images(hq_dir)}
    pairs, unmatched = [], []
    for lq_path in list_images(lq_dir):
        name = flat_name(lq_path.relative_to(lq_dir))
        hq_path = hq_by_name.get(name) or hq_by_name.get(_VARIANT_SUFFIX.sub("", name))
        if hq_path is None:
            unmatched.append(name)
        else:
            pairs.append((hq_path, lq_path))
    if not pairs:
        raise ValueError(f"no LQ image under {lq_dir} has an HQ image of the same name under {hq_dir}")
    return pairs, unmatched


def structure_report(hq_dir: Path, lq_dir: Path, device: torch.device | str = "cpu",
                     progress: bool = False) -> dict[str, Any]:
    """PSNR/SSIM summary over every matched (HQ, LQ) pair (``progress``: a bar over the pairs on stderr)."""
    pairs, unmatched = match_pairs(hq_dir, lq_dir)
    psnr, ssim = [], []
    for hq_path, lq_path in tqdm(pairs, desc="PSNR/SSIM", unit="pair", disable=not progress, dynamic_ncols=True,
                                 leave=False):
        pair_psnr, pair_ssim = structure_scores(load_image(hq_path).to(device), load_image(lq_path).to(device))
        psnr.append(pair_psnr)
        ssim.append(pair_ssim)
    return {**summarize_psnr(psnr, ssim), "unmatched_lq": len(unmatched)}


def check_patch_counts(counts: dict[str, tuple[Path, int]], classifier: bool, patches_per_image: int,
                       patch_size: int) -> None:
    """Enough patches in each set for what is measured; otherwise an error naming the folders and options."""
    need = MIN_PATCHES_CLASSIFIER if classifier else MIN_PATCHES_FRECHET
    short = [f"{option} {folder}: {n}" for option, (folder, n) in counts.items() if n < need]
    if short:
        what = "the classifier two-sample test" if classifier else "the Fréchet distance"
        fixes = [f"raise --patches-per-image (now {patches_per_image})", "add images",
                 f"lower --patch-size (now {patch_size})"]
        if classifier:
            fixes.append(f"pass --no-classifier (the Fréchet distance needs {MIN_PATCHES_FRECHET})")
        raise ValueError(f"too few patches for {what}, which needs at least {need} per folder: "
                         f"{'; '.join(short)}; {', '.join(fixes[:-1])} or {fixes[-1]}")


def evaluate_folders(real: str | os.PathLike, synth: str | os.PathLike, hq: str | os.PathLike | None = None,
                     patch_size: int = 32, patches_per_image: int = 64, seed: int = 0, steps: int = 300,
                     classifier: bool = True, inception_weights: str | os.PathLike | None = None,
                     device: torch.device | str = "cpu", progress: bool = False,
                     reference: RealReference | None = None) -> dict[str, Any]:
    """The full evaluation report as a JSON-safe dict (``progress``: bars over the work on stderr).

    Realism: ``report["realism"]["synth"]`` (real half A vs the synthesized LQ) and ``["null"]`` (half A vs
    half B), in the real set's units, each with bootstrap intervals; ``reference`` reuses the real side
    (``sweep`` measures every t against one).
    """
    real_dir = Path(real)
    if not real_dir.is_dir():
        raise FileNotFoundError(f"--real: not a folder: {real_dir}")
    lq_dir, hq_dir = synth_layout(synth, hq)
    report: dict[str, Any] = {
        "real": str(real_dir), "synth": str(lq_dir), "hq": str(hq_dir) if hq_dir else None,
        "settings": {"patch_size": patch_size, "patches_per_image": patches_per_image, "seed": seed,
                     "classifier_steps": steps if classifier else 0},
    }
    if hq_dir is not None:
        report["structure"] = structure_report(hq_dir, lq_dir, device, progress)
    if reference is None:
        reference = real_reference(real_dir, patch_size, patches_per_image, seed, steps, classifier, device, progress)
    synth_set = folder_patch_set(lq_dir, patch_size, patches_per_image, seed, progress=progress)
    check_patch_counts({"--real": (real_dir, int(reference.half_a.groups.numel())),
                        "--synth": (lq_dir, int(synth_set.groups.numel()))}, classifier, patches_per_image, patch_size)
    if classifier and synth_set.group_count < MIN_IMAGES_CLASSIFIER:
        raise ValueError(f"--synth {lq_dir}: {synth_set.group_count} usable image; the image-disjoint classifier "
                         f"needs at least {MIN_IMAGES_CLASSIFIER} (or pass --no-classifier)")
    report["sizes"] = {"real": reference.sizes, "synth": size_distribution(synth_set.sizes)}
    report["scale_warning"] = scale_warning(reference.sizes, report["sizes"]["synth"])
    report["realism"] = reference.report(synth_set)
    report["realism"]["skipped"] = reference.skipped + synth_set.skipped
    if inception_weights is not None:
        from .fid import fid_between_folders

        report["fid"] = fid_between_folders(real_dir, lq_dir, inception_weights, device)
    return report


def real_reference(real_dir: Path, patch_size: int, patches_per_image: int, seed: int, steps: int, classifier: bool,
                   device: torch.device | str, progress: bool) -> RealReference:
    """The real side (units, halves, null row, size distribution) of the real LQ folder."""
    real_set = folder_patch_set(real_dir, patch_size, patches_per_image, seed, progress=progress)
    try:
        reference = RealReference(real_set, Settings(seed=seed, steps=steps, classifier=classifier, device=str(device)))
    except ValueError as err:
        raise ValueError(f"--real {real_dir}: {err}") from None
    return reference
