"""Evaluation: structure (PSNR/SSIM), realism without downloaded weights (Fréchet distance and KID of
per-patch degradation statistics in the real set's units, an image-disjoint classifier two-sample test,
each with bootstrap intervals over images and a real-vs-real null row; content-matched measures on real
pairs), content-scale checks, and FID with local Inception weights."""
from .frechet import frechet_distance, gaussian_stats
from .image_patches import PatchSet, folder_patch_set, patch_set
from .patches import extract_patches
from .degradation_stats import COLOUR_FEATURES, FEATURE_NAMES, degradation_stats
from .paired import over_seeds, paired_measures
from .realism import RealReference, Settings, realism_with_null
from .scale import hq_downscale_factor, scale_warning, size_distribution
from .structure import structure_scores, summarize_psnr
from .two_sample import classifier_two_sample_test
from .units import RealUnits

__all__ = [
    "COLOUR_FEATURES", "FEATURE_NAMES", "PatchSet", "RealReference", "RealUnits", "Settings",
    "classifier_two_sample_test", "degradation_stats", "extract_patches", "folder_patch_set", "frechet_distance",
    "gaussian_stats", "hq_downscale_factor", "over_seeds", "paired_measures", "patch_set", "realism_with_null",
    "scale_warning", "size_distribution", "structure_scores", "summarize_psnr",
]
