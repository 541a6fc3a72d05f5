"""Degrader throughput (issues 3, 15). Run: ``.venv/bin/python benchmarks/bench_degraders.py [--device cuda]
[--sizes 256:16,512:8,1024:2] [--threads 1 2]``.

Images/s of each shipped degradation model (default batch 16, HQ 256x256 -> x4; ``--sizes`` for more) beside
BasicSR's own Real-ESRGAN pipeline assembled from BasicSR 1.4.2's functions (``random_mixed_kernels``,
``circular_lowpass_kernel``, ``filter2D``, ``random_add_gaussian_noise_pt``,
``random_add_poisson_noise_pt``, ``DiffJPEG``, ``USMSharp``) in the order of ``RealESRGANModel.feed_data``,
with its per-batch random choices and its kernels sampled per image on the CPU with numpy, as its
dataset does. Same process, same input batch, interleaved rounds; median time per batch, and the ratio of best rounds
(less sensitive to other jobs on a shared machine).
Target: ``realesrgan`` (every choice per sample) >= 5x BasicSR's throughput on the same device at every size and
thread count (issue 15). The load average before each configuration is printed: on a shared machine it matters.
Prints a markdown table for benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import degrade_stream as ds  # noqa: E402
from degrade_stream import compat  # noqa: E402
from degrade_stream.io import list_images, load_image  # noqa: E402

MODELS = ["bicubic", "classical", "bsrgan", "realesrgan", "realesrgan_release"]
X4PLUS = dict(kernel_list=["iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso"],
              kernel_prob=[0.45, 0.25, 0.12, 0.03, 0.12, 0.03], sinc_prob=0.1, blur_sigma=[0.2, 3], betag_range=[0.5, 4],
              betap_range=[1, 2], sinc_prob2=0.1, blur_sigma2=[0.2, 1.5], final_sinc_prob=0.8,
              resize_prob=[0.2, 0.7, 0.1], resize_range=[0.15, 1.5], gaussian_noise_prob=0.5, noise_range=[1, 30],
              poisson_scale_range=[0.05, 3], gray_noise_prob=0.4, jpeg_range=[30, 95], second_blur_prob=0.8,
              resize_prob2=[0.3, 0.4, 0.3], resize_range2=[0.3, 1.2], gaussian_noise_prob2=0.5, noise_range2=[1, 25],
              poisson_scale_range2=[0.05, 2.5], gray_noise_prob2=0.4, jpeg_range2=[30, 95], scale=4)


def hq_batch(batch: int, size: int) -> torch.Tensor:
    """``batch`` crops of the test HQ images (upscaled where smaller than ``size``)."""
    images = [load_image(p) for p in list_images(ROOT / "tests" / "data" / "hq")]
    crops = []
    for i in range(batch):
        img = images[i % len(images)]
        if min(img.shape[1:]) < size + 16:
            img = F.interpolate(img[None], size=(size + 16, size + 16), mode="bilinear", antialias=True)[0]
        y, x = (i * 7) % (img.shape[1] - size), (i * 13) % (img.shape[2] - size)
        crops.append(img[:, y:y + size, x:x + size])
    return torch.stack(crops).clamp(0, 1)


class BasicSRRealESRGAN:
    """BasicSR's Real-ESRGAN degradation: dataset-side kernels (numpy, per image) + model-side feed_data."""

    def __init__(self, device: torch.device) -> None:
        compat.alias_torchvision_functional_tensor()
        from basicsr.data import degradations as deg
        from basicsr.utils import DiffJPEG, USMSharp
        from basicsr.utils.img_process_util import filter2D
        self.deg, self.filter2D = deg, filter2D
        self.jpeger = DiffJPEG(differentiable=False).to(device)
        self.usm = USMSharp().to(device)
        self.device = device
        self.o = X4PLUS

    def _kernel(self, sinc_prob: float, sigma: list) -> np.ndarray:
        size = random.choice([2 * v + 1 for v in range(3, 11)])
        if np.random.uniform() < sinc_prob:
            omega = np.random.uniform(np.pi / 3, np.pi) if size < 13 else np.random.uniform(np.pi / 5, np.pi)
            k = self.deg.circular_lowpass_kernel(omega, size, pad_to=False)
        else:
            k = self.deg.random_mixed_kernels(self.o["kernel_list"], self.o["kernel_prob"], size, sigma, sigma,
                                              [-math.pi, math.pi], self.o["betag_range"], self.o["betap_range"],
                                              noise_range=None)
        pad = (21 - size) // 2
        return np.pad(k, ((pad, pad), (pad, pad)))

    def sample_kernels(self, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What RealESRGANDataset.__getitem__ draws per image, stacked as the DataLoader would."""
        k1, k2, sinc = [], [], []
        for _ in range(batch):
            k1.append(self._kernel(self.o["sinc_prob"], self.o["blur_sigma"]))
            k2.append(self._kernel(self.o["sinc_prob2"], self.o["blur_sigma2"]))
            if np.random.uniform() < self.o["final_sinc_prob"]:
                size = random.choice([2 * v + 1 for v in range(3, 11)])
                sinc.append(self.deg.circular_lowpass_kernel(np.random.uniform(np.pi / 3, np.pi), size, pad_to=21))
            else:
                pulse = np.zeros((21, 21))
                pulse[10, 10] = 1
                sinc.append(pulse)
        as_t = lambda ks: torch.from_numpy(np.stack(ks)).float().to(self.device)  # noqa: E731
        return as_t(k1), as_t(k2), as_t(sinc)

    def _resize_factor(self, probs: list, rng: list) -> float:
        kind = random.choices(["up", "down", "keep"], probs)[0]
        return np.random.uniform(1, rng[1]) if kind == "up" else np.random.uniform(rng[0], 1) if kind == "down" else 1.0

    def _noise(self, x: torch.Tensor, suffix: str) -> torch.Tensor:
        o = self.o
        if np.random.uniform() < o["gaussian_noise_prob" + suffix]:
            return self.deg.random_add_gaussian_noise_pt(x, sigma_range=o["noise_range" + suffix], clip=True,
                                                         rounds=False, gray_prob=o["gray_noise_prob" + suffix])
        return self.deg.random_add_poisson_noise_pt(x, scale_range=o["poisson_scale_range" + suffix],
                                                    gray_prob=o["gray_noise_prob" + suffix], clip=True, rounds=False)

    def _jpeg(self, x: torch.Tensor, rng: list) -> torch.Tensor:
        q = x.new_zeros(x.shape[0]).uniform_(*rng)
        return self.jpeger(x.clamp(0, 1), quality=q).contiguous()  # DiffJPEG returns channels-last strides on CPU

    def __call__(self, gt: torch.Tensor) -> torch.Tensor:
        o, f2d = self.o, self.filter2D
        k1, k2, sinc = self.sample_kernels(gt.shape[0])
        h, w = gt.shape[-2:]
        out = f2d(self.usm(gt), k1)
        out = F.interpolate(out, scale_factor=self._resize_factor(o["resize_prob"], o["resize_range"]),
                            mode=random.choice(["area", "bilinear", "bicubic"]))
        out = self._jpeg(self._noise(out, ""), o["jpeg_range"])
        if np.random.uniform() < o["second_blur_prob"]:
            out = f2d(out, k2)
        s = self._resize_factor(o["resize_prob2"], o["resize_range2"])
        out = F.interpolate(out, size=(int(h / o["scale"] * s), int(w / o["scale"] * s)),
                            mode=random.choice(["area", "bilinear", "bicubic"]))
        out = self._noise(out, "2")
        final = (h // o["scale"], w // o["scale"])
        if np.random.uniform() < 0.5:
            out = F.interpolate(out, size=final, mode=random.choice(["area", "bilinear", "bicubic"]))
            out = self._jpeg(f2d(out, sinc), o["jpeg_range2"])
        else:
            out = self._jpeg(out, o["jpeg_range2"])
            out = F.interpolate(out, size=final, mode=random.choice(["area", "bilinear", "bicubic"]))
            out = f2d(out, sinc)
        return torch.clamp((out * 255.0).round(), 0, 255) / 255.0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def run_config(device: torch.device, size: int, batch: int, threads: int, rounds: int,
               models: list[str]) -> dict[str, list[float]]:
    """Seconds per batch of every pipeline over ``rounds`` interleaved rounds (after one warm-up)."""
    torch.set_num_threads(threads)
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)  # BasicSR's pipeline uses the global RNGs; ours uses none
    hq = hq_batch(batch, size).to(device)
    runners = {}
    try:
        runners["BasicSR Real-ESRGAN (per-batch choices)"] = BasicSRRealESRGAN(device)
    except ImportError as err:
        print(f"BasicSR not importable ({err}); timing degrade_stream only", file=sys.stderr)
    for name in models:
        chain = ds.load_chain(name, device=device)
        runners[name] = lambda x, chain=chain, it=iter(range(10 ** 9)): chain(x, seed=next(it) * 7919).lq
    times: dict[str, list[float]] = {k: [] for k in runners}
    with torch.no_grad():
        for fn in runners.values():  # warm-up
            fn(hq)
        for _ in range(rounds):  # interleaved so background load hits every pipeline alike
            for key, fn in runners.items():
                _sync(device)
                t0 = time.perf_counter()
                fn(hq)
                _sync(device)
                times[key].append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--sizes", default="256:16", metavar="SIZE:BATCH,...",
                        help="HQ sizes and batch sizes, e.g. 256:16,512:8,1024:2 (default 256:16)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per pipeline (after one warm-up)")
    parser.add_argument("--threads", type=int, nargs="*", default=[2], help="torch CPU thread counts to run")
    parser.add_argument("--models", nargs="*", default=MODELS)
    args = parser.parse_args()
    device = torch.device(args.device)
    configs = [tuple(int(v) for v in item.split(":")) for item in args.sizes.split(",")]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    print(f"device: {device.type} ({name}); torch {torch.__version__}; x4; median of {args.rounds} rounds; "
          "load average (1, 5, 15 min) before each configuration\n")
    print("| HQ size | batch | threads | load before | pipeline | s / batch (median) | images/s "
          "| vs BasicSR (median) | vs BasicSR (best round) |")
    print("| ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |")
    for threads in args.threads:
        for size, batch in configs:
            load = _loadavg()
            times = run_config(device, size, batch, threads, args.rounds, args.models)
            base_key = next((k for k in times if k.startswith("BasicSR")), None)
            base = statistics.median(times[base_key]) if base_key else None
            best_base = min(times[base_key]) if base_key else None
            for key, ts in times.items():
                med = statistics.median(ts)
                ratio = f"{base / med:.2f}x" if base else "n/a"
                best = f"{best_base / min(ts):.2f}x" if best_base else "n/a"
                print(f"| {size} | {batch} | {threads} | {load} | {key} | {med:.3f} | {batch / med:.1f} | {ratio} "
                      f"| {best} |", flush=True)
    print(f"\nload average after: {_loadavg()}")


if __name__ == "__main__":
    main()
