"""Realism patches (metrics/patches.py): at most ``count`` per image at any size, distinct, on the 8-px grid,
the same patches as taking every grid patch and picking the drawn ones (the rule before issue 14)."""
from __future__ import annotations

import torch

from degrade_stream.metrics.patches import GRID, extract_patches


def _every_patch_then_pick(image: torch.Tensor, size: int, count: int, seed: int) -> torch.Tensor:
    """The reference: all grid patches (unfold), then the randperm's first ``count``."""
    _, height, width = image.shape
    ny, nx = (height - size) // GRID + 1, (width - size) // GRID + 1
    pick = torch.randperm(ny * nx, generator=torch.Generator().manual_seed(seed))[:count]
    every = image.unfold(1, size, GRID).unfold(2, size, GRID).permute(1, 2, 0, 3, 4).reshape(ny * nx, 3, size, size)
    return every[pick]


def test_same_patches_as_every_grid_patch_then_pick():
    for (h, w), count in (((64, 64), 64), ((100, 77), 5), ((512, 512), 64), ((40, 33), 1000), ((512, 200), 300)):
        image = torch.rand(3, h, w, generator=torch.Generator().manual_seed(h * w))
        got = extract_patches(image, 32, count, torch.Generator().manual_seed(count))
        assert torch.equal(got, _every_patch_then_pick(image, 32, count, count)), (h, w, count)


def test_a_512_face_gives_count_distinct_grid_aligned_patches():
    # each pixel value encodes its position, so a patch tells where it came from
    ys, xs = torch.meshgrid(torch.arange(512.0), torch.arange(512.0), indexing="ij")
    image = torch.stack([ys, xs, ys * 0])
    patches = extract_patches(image, 32, 64, torch.Generator().manual_seed(0))
    assert patches.shape == (64, 3, 32, 32)  # bounded: not one per cell (256) nor per grid origin (3721)
    origins = {(int(p[0, 0, 0]), int(p[1, 0, 0])) for p in patches}
    assert len(origins) == 64
    assert all(y % GRID == 0 and x % GRID == 0 and y <= 480 and x <= 480 for y, x in origins)
    assert len({y for y, _ in origins}) > 10  # spread over the face, not one corner
    # fewer origins than asked: all of them, once each
    assert extract_patches(torch.rand(3, 40, 48), 32, 64, torch.Generator().manual_seed(0)).shape[0] == 2 * 3
    assert extract_patches(torch.rand(3, 31, 48), 32, 64, torch.Generator().manual_seed(0)).shape[0] == 0
