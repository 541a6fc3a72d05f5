"""Evaluation: structure (PSNR/SSIM), realism without downloaded weights (a Fréchet distance over
per-patch degradation statistics, a classifier two-sample test), and FID with local Inception weights."""
from .frechet import frechet_distance, gaussian_stats
from .patches import extract_patches, folder_patches
from .degradation_stats import COLOUR_FEATURES, FEATURE_NAMES, degradation_stats
from .structure import structure_scores, summarize_psnr
from .two_sample import classifier_two_sample_test

__all__ = [
    "COLOUR_FEATURES", "FEATURE_NAMES", "classifier_two_sample_test", "degradation_stats", "extract_patches",
    "folder_patches", "frechet_distance", "gaussian_stats", "structure_scores", "summarize_psnr",
]
