"""Classifier two-sample test (Lopez-Paz & Oquab 2017, "Revisiting Classifier Two-Sample Tests"), image-disjoint.

A small CNN trained from scratch tells real from synthesized patches; it is trained on the patches of
one half of the images and scored on the patches of the other half, so it cannot win by recognising
an image it has seen (patches of one image, or of the variants of one HQ image, share a group and stay
on one side). With ``shared_groups`` (real pairs: group = scene) a scene's real and synthetic patches
are on the same side. Input: the high-pass residual (patch minus its Gaussian blur), standardised per
channel by the training set's mean and std (unscaled, the CNN sometimes collapsed to one class on sets a
standardised input separates). Classes are balanced by subsampling the training set; the score is the
balanced accuracy (mean of the per-class accuracies) and the AUC (Mann-Whitney), each with a bootstrap
interval over the test images. A run whose predictions are all one class is flagged ``failed``: its
0.5 says nothing about the two sets. Every random choice comes from one seeded ``torch.Generator``.
"""
from __future__ import annotations

import math

import kornia
import torch
from torch import Tensor, nn

from .bootstrap import LEVEL, RESAMPLES, group_counts, percentile_interval

MIN_GROUPS = 2  # per class: one image to train on and one to test on


def high_pass(patches: Tensor) -> Tensor:
    """Patch minus its Gaussian blur (5x5, sigma 1): the degradation-carrying residual."""
    blurred = kornia.filters.gaussian_blur2d(patches, (5, 5), (1.0, 1.0), border_type="reflect")
    return patches - blurred


def residual_classifier(width: int = 32) -> nn.Sequential:
    """A small CNN over residual patches: three convolutions, global average pooling, one logit."""
    return nn.Sequential(
        nn.Conv2d(3, width // 2, 3, padding=1), nn.ReLU(),
        nn.Conv2d(width // 2, width, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 1),
    )


def _init_weights(model: nn.Module, generator: torch.Generator) -> None:
    """Seeded initialisation (no global RNG): Kaiming-uniform weights, zero biases."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            nn.init.zeros_(module.bias)


def _train_groups(ids: Tensor, generator: torch.Generator) -> Tensor:
    """A random half (rounded down, at least one) of the group ids ``ids``."""
    order = ids[torch.randperm(ids.numel(), generator=generator)]
    return order[:max(1, ids.numel() // 2)]


def group_split(real_groups: Tensor, synth_groups: Tensor, shared_groups: bool,
                generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Boolean train masks (real, synth): whole groups on one side; ``shared_groups`` splits the scenes once."""
    real_ids, synth_ids = real_groups.unique(), synth_groups.unique()
    if real_ids.numel() < MIN_GROUPS or synth_ids.numel() < MIN_GROUPS:
        raise ValueError(f"the two-sample test needs at least {MIN_GROUPS} images per set (one to train on, one to "
                         f"test on), got {real_ids.numel()} real and {synth_ids.numel()} synthesized")
    if shared_groups:
        train = _train_groups(torch.cat([real_ids, synth_ids]).unique(), generator)
        return torch.isin(real_groups, train), torch.isin(synth_groups, train)
    return torch.isin(real_groups, _train_groups(real_ids, generator)), \
        torch.isin(synth_groups, _train_groups(synth_ids, generator))


def _balance(real_index: Tensor, synth_index: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Subsample the larger class to the size of the smaller one."""
    n = min(real_index.numel(), synth_index.numel())

    def keep(index: Tensor) -> Tensor:
        return index if index.numel() == n else index[torch.randperm(index.numel(), generator=generator)[:n].sort().values]

    return keep(real_index), keep(synth_index)


def _train(inputs: Tensor, labels: Tensor, steps: int, batch_size: int, lr: float,
           generator: torch.Generator, device: torch.device | str) -> nn.Module:
    model = residual_classifier()
    _init_weights(model, generator)
    model.to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    order = torch.empty(0, dtype=torch.long)
    for _ in range(steps):
        if order.numel() < batch_size:  # a new shuffled pass over the training set
            order = torch.cat([order, torch.randperm(inputs.shape[0], generator=generator)])
        batch, order = order[:batch_size].to(device), order[batch_size:]
        loss = loss_fn(model(inputs[batch])[:, 0], labels[batch])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return model.eval()


def _compact(real: Tensor, synth: Tensor, shared: bool) -> tuple[Tensor, Tensor]:
    """Group ids renumbered 0..k-1 (jointly when the groups are shared scenes)."""
    if shared:
        _, inverse = torch.cat([real, synth]).unique(return_inverse=True)
        return inverse[:real.numel()], inverse[real.numel():]
    return real.unique(return_inverse=True)[1], synth.unique(return_inverse=True)[1]


def weighted_scores(real_logits: Tensor, synth_logits: Tensor, real_weights: Tensor,
                    synth_weights: Tensor) -> tuple[Tensor, Tensor]:
    """(balanced accuracy, AUC), each (B,), for (B, n) and (B, m) patch weights (synthetic = positive class).

    AUC = P(synthetic logit > real logit) + P(tie) / 2 (Mann-Whitney), from one sort of the real logits.
    """
    rw, sw = real_weights.to(torch.float64), synth_weights.to(torch.float64)
    specificity = (rw * (real_logits <= 0)).sum(1) / rw.sum(1)
    sensitivity = (sw * (synth_logits > 0)).sum(1) / sw.sum(1)
    order = real_logits.argsort()
    sorted_real = real_logits[order].contiguous()
    below = torch.searchsorted(sorted_real, synth_logits.contiguous(), right=False)
    upto = torch.searchsorted(sorted_real, synth_logits.contiguous(), right=True)
    cumulative = torch.cat([torch.zeros(rw.shape[0], 1, dtype=torch.float64), rw[:, order].cumsum(1)], 1)
    wins = cumulative[:, below] + 0.5 * (cumulative[:, upto] - cumulative[:, below])  # (B, m)
    auc = (sw * wins).sum(1) / (rw.sum(1) * sw.sum(1))
    return (specificity + sensitivity) / 2, auc


def classifier_two_sample_test(real: Tensor, synth: Tensor, real_groups: Tensor, synth_groups: Tensor,
                               shared_groups: bool = False, seed: int = 0, steps: int = 300, batch_size: int = 32,
                               lr: float = 2e-3, device: torch.device | str = "cpu", resamples: int = RESAMPLES,
                               level: float = LEVEL) -> dict[str, object]:
    """Train on the patches of half the images of each (N, 3, P, P) set; score on the other half.

    ``real_groups`` / ``synth_groups``: the (N,) image (group) id of each patch, 0..G-1.
    """
    generator = torch.Generator().manual_seed(seed)
    real_train, synth_train = group_split(real_groups, synth_groups, shared_groups, generator)
    train_real, train_synth = _balance(real_train.nonzero()[:, 0], synth_train.nonzero()[:, 0], generator)
    if train_real.numel() == 0:
        raise ValueError("the two-sample test needs patches on both sides of the split")
    raw = torch.cat([high_pass(real[train_real]), high_pass(synth[train_synth])]).to(torch.float32)
    mean = raw.mean(dim=(0, 2, 3), keepdim=True)
    std = raw.std(dim=(0, 2, 3), keepdim=True).clamp(min=1e-6)
    inputs = ((raw - mean) / std).to(device)
    labels = torch.cat([torch.zeros(train_real.numel()), torch.ones(train_synth.numel())]).to(device)
    model = _train(inputs, labels, steps, batch_size, lr, generator, device)

    def logits(patches: Tensor) -> Tensor:
        x = (high_pass(patches.to(torch.float32)) - mean) / std
        with torch.inference_mode():
            return torch.cat([model(x[i:i + 256].to(device))[:, 0].cpu() for i in range(0, x.shape[0], 256)])

    real_test, synth_test = ~real_train, ~synth_train
    real_logits, synth_logits = logits(real[real_test]).double(), logits(synth[synth_test]).double()
    rg, sg = _compact(real_groups[real_test], synth_groups[synth_test], shared_groups)
    boot = torch.Generator().manual_seed(seed + 1)
    if shared_groups:  # a resampled scene brings its real and its synthetic patches
        real_counts = synth_counts = group_counts(int(max(rg.max(), sg.max())) + 1, resamples, boot)
    else:
        real_counts = group_counts(int(rg.max()) + 1, resamples, boot)
        synth_counts = group_counts(int(sg.max()) + 1, resamples, boot)
    ones_r, ones_s = torch.ones(1, rg.numel(), dtype=torch.float64), torch.ones(1, sg.numel(), dtype=torch.float64)
    accuracy, auc = weighted_scores(real_logits, synth_logits, torch.cat([ones_r, real_counts[:, rg]]),
                                    torch.cat([ones_s, synth_counts[:, sg]]))
    predicted = torch.cat([real_logits > 0, synth_logits > 0])
    failed = bool(predicted.all() or not predicted.any())
    return {
        "accuracy": float(accuracy[0]), "accuracy_ci": percentile_interval(accuracy[1:], level),
        "auc": float(auc[0]), "auc_ci": percentile_interval(auc[1:], level), "failed": failed,
        "train_patches": int(labels.numel()), "test_patches": int(rg.numel() + sg.numel()),
        "test_images_real": int(rg.unique().numel()), "test_images_synth": int(sg.unique().numel()),
    }
