"""Human-readable table of an evaluation report (the JSON holds the same numbers)."""
from __future__ import annotations

from typing import Any


def format_report(report: dict[str, Any]) -> str:
    """A few aligned lines: structure, realism, FID, each when present."""
    rows: list[tuple[str, str]] = []
    structure = report.get("structure")
    if structure:
        below = next(v for k, v in structure.items() if k.startswith("fraction_below_"))
        rows += [(f"structure: {structure['pairs']} (HQ, LQ) pairs", ""),
                 ("  PSNR mean / median (dB)", f"{structure['psnr_mean']:.2f} / {structure['psnr_median']:.2f}"),
                 ("  SSIM mean / median", f"{structure['ssim_mean']:.4f} / {structure['ssim_median']:.4f}"),
                 ("  pairs below 24 dB (inconsistent)", f"{100 * below:.1f} %")]
    realism = report["realism"]
    size = report["settings"]["patch_size"]
    rows += [(f"realism: {realism['real_patches']} real vs {realism['synth_patches']} synthesized "
              f"{size}x{size} patches", ""),
             ("  Fréchet distance, all statistics", f"{realism['frechet_all']:.3f}"),
             ("  Fréchet distance, without colour/brightness", f"{realism['frechet_degradation']:.3f}")]
    if realism.get("skipped"):
        rows.append(("  images left out (unreadable or too small)", f"{len(realism['skipped'])} (listed in the JSON)"))
    classifier = realism.get("classifier")
    if classifier:
        rows.append(("  classifier accuracy (0.5 = indistinguishable)",
                     f"{classifier['accuracy']:.3f} (p = {classifier['p_value']:.2g}, "
                     f"{classifier['test_patches']} test patches)"))
    fid = report.get("fid")
    if fid:
        rows.append((f"FID ({fid['real_images']} real vs {fid['synth_images']} synthesized images)",
                     f"{fid['fid']:.3f}"))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}".rstrip() for label, value in rows)
