"""sweep.png: realism distance and PSNR against t, with the paper's 24 dB line (Yang et al. 2023, Fig. 4)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..atomic import atomic_target
from ..metrics.structure import INCONSISTENT_BELOW_DB


def plot_sweep(rows: Sequence[dict[str, Any]], path: Path) -> bool:
    """Draw the sweep figure to ``path`` atomically; False (nothing written) if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    ts = [r["t"] for r in rows]
    fig, realism_axis = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    realism_axis.plot(ts, [r["frechet_degradation"] for r in rows], "o-", color="tab:blue",
                      label="Fréchet distance (degradation stats)")
    realism_axis.fill_between(ts, [r["frechet_degradation_low"] for r in rows],
                              [r["frechet_degradation_high"] for r in rows], color="tab:blue", alpha=0.15,
                              label="95 % interval")
    realism_axis.axhline(rows[0]["null_frechet_degradation"], color="tab:gray", linestyle="--",
                         label="null: real vs real")
    realism_axis.set_xlabel("diffusion step t")
    realism_axis.set_ylabel("distance to real LQ (lower = more realistic)")
    psnr_axis = realism_axis.twinx()
    psnr_axis.plot(ts, [r["psnr_mean"] for r in rows], "^-", color="tab:red", label="PSNR(HQ, LQ)")
    psnr_axis.axhline(INCONSISTENT_BELOW_DB, color="tab:red", linestyle=":", label=f"{INCONSISTENT_BELOW_DB:g} dB")
    psnr_axis.set_ylabel("PSNR between HQ and LQ (dB)")
    lines = realism_axis.get_lines() + psnr_axis.get_lines()
    realism_axis.legend(lines, [line.get_label() for line in lines], loc="best", fontsize="small")
    realism_axis.set_title("realism vs structure over t")
    fig.tight_layout()
    try:
        with atomic_target(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return True
