"""Human-readable tables of evaluation reports (the JSON holds the same numbers)."""
from __future__ import annotations

from typing import Any


def _ci(value: float, ci: list[float], digits: int = 3) -> str:
    return f"{value:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def classifier_text(classifier: dict[str, Any]) -> str:
    """Accuracy and AUC with intervals, or the failed-run flag."""
    if classifier.get("failed"):
        return "FAILED (one predicted class; not a result)"
    return (f"acc {_ci(classifier['accuracy'], classifier['accuracy_ci'], 2)}, "
            f"AUC {_ci(classifier['auc'], classifier['auc_ci'], 2)}")


def realism_rows(row: dict[str, Any]) -> list[tuple[str, str]]:
    """The measures of one realism row (image-level or content-matched), each with its 95 % interval."""
    rows = [("  Fréchet, degradation statistics", _ci(row["frechet_degradation"], row["frechet_degradation_ci"])),
            ("  Fréchet, all statistics", _ci(row["frechet_all"], row["frechet_all_ci"])),
            ("  KID, degradation statistics", _ci(row["kid_degradation"], row["kid_degradation_ci"], 4))]
    if row.get("classifier"):
        rows.append(("  classifier, image-disjoint (0.5 = indistinguishable)", classifier_text(row["classifier"])))
    return rows


def format_report(report: dict[str, Any]) -> str:
    """Structure, LQ sizes, realism (the null row beside the synthetic row), FID, each when present."""
    rows: list[tuple[str, str]] = []
    structure = report.get("structure")
    if structure:
        below = next(v for k, v in structure.items() if k.startswith("fraction_below_"))
        rows += [(f"structure: {structure['pairs']} (HQ, LQ) pairs", ""),
                 ("  PSNR mean / median (dB)", f"{structure['psnr_mean']:.2f} / {structure['psnr_median']:.2f}"),
                 ("  SSIM mean / median", f"{structure['ssim_mean']:.4f} / {structure['ssim_median']:.4f}"),
                 ("  pairs below 24 dB (inconsistent)", f"{100 * below:.1f} %")]
    sizes = report.get("sizes")
    if sizes:
        real, synth = sizes["real"], sizes["synth"]
        rows.append(("LQ short side median (p10-p90), real / synthesized",
                     f"{real['short_side_median']:.0f} ({real['short_side_p10']:.0f}-{real['short_side_p90']:.0f}) / "
                     f"{synth['short_side_median']:.0f} ({synth['short_side_p10']:.0f}-{synth['short_side_p90']:.0f}) px"))
    realism = report["realism"]
    size = report["settings"]["patch_size"]
    null, synth_row = realism["null"], realism["synth"]
    rows.append((f"realism ({size}x{size} patches, real units, 95 % bootstrap intervals over images)", ""))
    rows.append((f"null: real half A ({null['real_images']} images) vs real half B ({null['synth_images']})", ""))
    rows += realism_rows(null)
    rows.append((f"synthesized: real half A vs {synth_row['synth_images']} synthesized images", ""))
    rows += realism_rows(synth_row)
    if realism.get("skipped"):
        rows.append(("  images left out (unreadable or too small)", f"{len(realism['skipped'])} (listed in the JSON)"))
    fid = report.get("fid")
    if fid:
        rows.append((f"FID ({fid['real_images']} real vs {fid['synth_images']} synthesized images)",
                     f"{fid['fid']:.3f}"))
    width = max(len(label) for label, _ in rows)
    text = "\n".join(f"{label:<{width}}  {value}".rstrip() for label, value in rows)
    if report.get("scale_warning"):
        text += f"\nWARNING: {report['scale_warning']}"
    return text


def format_pairs_report(report: dict[str, Any]) -> str:
    """Content-matched measures, one block per synthesis seed."""
    rows: list[tuple[str, str]] = [(f"content-matched: chain(H) vs real L, {report['scenes']} scenes of "
                                    f"{report['pairs']} (95 % intervals over scenes)", "")]
    for row in report["rows"]:
        rows.append((f"synthesis seed {row['synthesis_seed']}", ""))
        rows.append(("  PSNR chain(H) vs L (dB)", _ci(row["pair_psnr"], row["pair_psnr_ci"], 2)))
        rows += realism_rows(row)
    spread = report.get("over_seeds")
    if spread:
        d = spread["frechet_degradation"]
        rows.append(("over seeds: Fréchet (deg) mean [min, max]", f"{d['mean']:.3f} [{d['min']:.3f}, {d['max']:.3f}]"))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}".rstrip() for label, value in rows)
