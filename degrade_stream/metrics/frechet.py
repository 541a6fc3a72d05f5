"""Fréchet distance between two Gaussians fitted to feature sets.

d^2 = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^{1/2})  (Dowson & Landau 1982; Heusel et al. 2017, FID eq. 1).

Written here rather than taken from scipy: scipy is not a dependency, and tr((S1 S2)^{1/2}) has a
stable closed form for covariance (PSD) matrices: it equals the sum of the square roots of the
eigenvalues of S1^{1/2} S2 S1^{1/2}, which is symmetric, so ``torch.linalg.eigh`` suffices (no
complex sqrtm, works for singular covariances such as 2048-d FID features of a few images).
"""
from __future__ import annotations

import torch
from torch import Tensor


def gaussian_stats(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, in float64."""
    if features.dim() != 2 or features.shape[0] < 2:
        raise ValueError(f"need an (N, D) feature matrix with N >= 2, got shape {tuple(features.shape)}")
    x = features.to(torch.float64)
    mu = x.mean(0)
    centred = x - mu
    return mu, centred.T @ centred / (x.shape[0] - 1)


def _psd_sqrt(matrix: Tensor) -> Tensor:
    """Square root of a symmetric PSD matrix (negative round-off eigenvalues clamped to 0)."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"feature dimensions differ: {tuple(mu1.shape)} vs {tuple(mu2.shape)}")
    mu1, mu2, sigma1, sigma2 = (t.to(torch.float64) for t in (mu1, mu2, sigma1, sigma2))
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigen = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0)
    value = (mu1 - mu2).square().sum() + torch.trace(sigma1) + torch.trace(sigma2) - 2 * eigen.sqrt().sum()
    return max(float(value), 0.0)


def frechet_between(features_a: Tensor, features_b: Tensor) -> float:
    """Fréchet distance between the Gaussian fits of two (N, D) feature sets.

    With fewer samples than dimensions (FID's 2048-d features of a few hundred images) the
    covariances have low rank: S1 = A A^T / (n1 - 1) and S2 = B B^T / (n2 - 1) with A, B the centred
    features (D, n). The nonzero eigenvalues of S1 S2 are those of (A^T B)(A^T B)^T / ((n1-1)(n2-1)),
    so tr((S1 S2)^{1/2}) is the sum of the singular values of the small (n1, n2) matrix A^T B,
    exact and far cheaper than two D x D eigendecompositions.
    """
    mu_a, sigma_a = gaussian_stats(features_a)
    mu_b, sigma_b = gaussian_stats(features_b)
    n_a, dim = features_a.shape
    n_b = features_b.shape[0]
    if min(n_a, n_b) >= dim:
        return frechet_distance(mu_a, sigma_a, mu_b, sigma_b)
    a = features_a.to(torch.float64) - mu_a
    b = features_b.to(torch.float64) - mu_b
    cross = torch.linalg.svdvals(a @ b.T).sum() / ((n_a - 1) * (n_b - 1)) ** 0.5
    value = (mu_a - mu_b).square().sum() + torch.trace(sigma_a) + torch.trace(sigma_b) - 2 * cross
    return max(float(value), 0.0)
