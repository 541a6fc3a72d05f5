"""FID between two image folders with a local FID Inception network (fid_inception.py)."""
from __future__ import annotations

import os

import torch
from torch import Tensor, nn

from ..io import list_images, load_image
from .fid_inception import inception_features, load_fid_inception
from .frechet import frechet_between


@torch.inference_mode()
def folder_features(net: nn.Module, folder: str | os.PathLike, batch_size: int = 16) -> Tensor:
    """Inception features of every readable image under ``folder`` (unreadable ones are left out)."""
    device = next(net.parameters()).device
    features, batch = [], []
    for path in list_images(folder):
        try:
            batch.append(load_image(path))
        except ValueError:
            continue
        if len(batch) == batch_size:
            features.append(_batch_features(net, batch, device))
            batch = []
    if batch:
        features.append(_batch_features(net, batch, device))
    if not features:
        raise ValueError(f"FID: no readable images under {folder}")
    return torch.cat(features)


def _batch_features(net: nn.Module, images: list[Tensor], device: torch.device) -> Tensor:
    # images differ in size: each is resized to 299x299 on its own, then they run as one batch
    resized = [torch.nn.functional.interpolate(im[None].to(device), size=(299, 299), mode="bilinear",
                                               align_corners=False) for im in images]
    return inception_features(net, torch.cat(resized)).double().cpu()


def fid_between_folders(real: str | os.PathLike, synth: str | os.PathLike, weights: str | os.PathLike,
                        device: torch.device | str = "cpu", batch_size: int = 16) -> dict[str, float | int]:
    """FID between two folders; needs at least 2 images each (meaningful only with hundreds or more)."""
    net = load_fid_inception(weights, device)
    real_features = folder_features(net, real, batch_size)
    synth_features = folder_features(net, synth, batch_size)
    n_real, n_synth = real_features.shape[0], synth_features.shape[0]
    if n_real < 2 or n_synth < 2:
        raise ValueError(f"FID needs at least 2 images per folder, got {n_real} and {n_synth}")
    return {"fid": frechet_between(real_features, synth_features), "real_images": int(n_real),
            "synth_images": int(n_synth)}
