"""Does adding back the input's detail above the working resolution help? (issue 14: ddpm_refine at a working size)

For a few HQ faces resized to 512: the realesrgan_face LQ, refined by a face model at its working size at
each t, without and with x - up(down(x)) added back (the variant without: ``WithoutDetail`` below; same seeds: same handcrafted
LQ, same noise). Reports, per
variant, PSNR to HQ and the patch-statistic Fréchet distances to a folder of real LQ faces, and the
seconds per face. One thread; run it with ``nice``.

    python benchmarks/face_keep_detail.py --checkpoint bundled_face --hq ../shared/data/hq_faces \
        --real /tmp/lq_faces_eval --faces 8 --t 100,250 --out /tmp/keep_detail
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
from PIL import Image

from degrade_stream.cli.pair_writer import synthesize_pairs
from degrade_stream.core.config import resolve_config
from degrade_stream.core.registry import register
from degrade_stream.diffusion.refine import DDPMRefine
from degrade_stream.diffusion.working_size import resize_to
from degrade_stream.io import list_images
from degrade_stream.metrics.folder_report import evaluate_folders

WITHOUT_DETAIL = "ddpm_refine_without_detail"


@register(WITHOUT_DETAIL)
class WithoutDetail(DDPMRefine):
    """The measured alternative, not in the library: the working-size refinement upscaled, without the input's
    detail above the working size."""

    @staticmethod
    def _to_input_size(r: torch.Tensor, image: torch.Tensor, work: torch.Tensor) -> torch.Tensor:
        return resize_to(r.clamp(0.0, 1.0), *image.shape[-2:])


def faces_at_512(hq: Path, count: int, out: Path) -> Path:
    """The first ``count`` HQ faces resized (Lanczos) to 512x512 into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for path in list_images(hq)[:count]:
        with Image.open(path) as image:
            image.convert("RGB").resize((512, 512), Image.Resampling.LANCZOS).save(out / f"{path.stem}.png")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="bundled_face")
    parser.add_argument("--hq", required=True, type=Path)
    parser.add_argument("--real", required=True, type=Path)
    parser.add_argument("--faces", type=int, default=8)
    parser.add_argument("--t", default="100,250")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    hq = faces_at_512(args.hq, args.faces, args.out / "hq512")
    base = resolve_config("realesrgan_face_ddpm", "chains")
    print(f"load {os.getloadavg()[0]:.2f}; checkpoint {args.checkpoint}; {args.faces} faces at 512")
    print("| t | keep_detail | PSNR (dB) | Fréchet degradation [95 % CI] | null (real vs real) [CI] | s per face |")
    print("|---|---|---|---|---|---|")
    for t in [int(v) for v in args.t.split(",")]:
        for keep in ((False,) if t == 0 else (False, True)):
            config = {"name": f"t{t}_{keep}", "stages": [dict(s) for s in base["stages"]]}
            config["stages"][1].update(checkpoint=args.checkpoint, t_range=[t, t])
            if not keep:
                config["stages"][1]["type"] = WITHOUT_DETAIL
            folder = args.out / f"t{t}_keep{int(keep)}"
            start = time.perf_counter()
            synthesize_pairs(config, hq, folder, seed=0, batch_size=1, device="cpu", progress=False)
            seconds = (time.perf_counter() - start) / args.faces
            report = evaluate_folders(args.real, folder, classifier=False)
            s, r, n = report["structure"], report["realism"]["synth"], report["realism"]["null"]
            print(f"| {t} | {keep} | {s['psnr_mean']:.2f} | {r['frechet_degradation']:.3f} "
                  f"[{r['frechet_degradation_ci'][0]:.3f}, {r['frechet_degradation_ci'][1]:.3f}] | "
                  f"{n['frechet_degradation']:.3f} [{n['frechet_degradation_ci'][0]:.3f}, "
                  f"{n['frechet_degradation_ci'][1]:.3f}] | {seconds:.1f} |", flush=True)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
