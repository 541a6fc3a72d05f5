"""The parts of ``benchmarks/gpu_check.py``; each runs in its own process and returns a result dict.

A result is ``{"figures": [{"name", "value", "unit"}], "tables": {title: [row dicts]}, "notes": [str],
"files": [paths to copy into the output folder]}``. Sizes come from ``SIZES[quick]``: full sizes for a
GPU (one H200, the whole check under 9 minutes), tiny ones for ``--quick`` on a CPU (seconds).
"""
from __future__ import annotations

import csv
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

SIZES = {
    False: dict(test_target="tests", deg_cases=[(16, 256), (8, 512)], deg_models=None, deg_rounds=5,
                ref_cases=[("tiny", 64, 64, 25), ("release", 128, 32, 10), ("release", 256, 8, 10)],
                ref_levers=("release", 128, 32, 10), ref_follow=(64, 64), matmul_n=8192, ref_rounds=3,
                stream=dict(items=256, batch=16, size=128, workers=4, repeats=3),
                train_overrides=dict(checkpoint_every=250, log_every=50), sweep_t="0,50,100,200", sweep_images=None),
    True: dict(test_target="tests/test_degrade_kernels.py", deg_cases=[(2, 64)], deg_models=["bicubic", "realesrgan"],
               deg_rounds=1, ref_cases=[("tiny", 32, 2, 2)], ref_levers=("tiny", 32, 2, 2), ref_follow=(32, 4),
               matmul_n=256, ref_rounds=1, stream=dict(items=8, batch=4, size=32, workers=0, repeats=1),
               train_overrides=dict(steps=3, batch_size=2, crop=32, num_workers=0, checkpoint_every=3, log_every=1),
               sweep_t="0,20", sweep_images=2),
}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def figure(name: str, value: Any, unit: str = "") -> dict:
    return {"name": name, "value": value, "unit": unit}


def cli(*args: str) -> list[str]:
    """The degrade-stream command line run from this source tree."""
    return [sys.executable, "-m", "degrade_stream.cli.main", *map(str, args)]


def part_env(a: Namespace, device: torch.device) -> dict:
    """The machine: torch, device, GPU memory, load, nvidia-smi."""
    figs = [figure("torch", torch.__version__), figure("python", platform.python_version()),
            figure("cpu_count", os.cpu_count()), figure("device", str(device))]
    if Path("/proc/loadavg").exists():
        figs.append(figure("load_average", " ".join(Path("/proc/loadavg").read_text().split()[:3])))
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        figs += [figure("gpu", props.name), figure("gpu_memory", round(props.total_memory / 2 ** 30, 1), "GiB"),
                 figure("compute_capability", f"{props.major}.{props.minor}"),
                 figure("cuda", torch.version.cuda), figure("bf16_supported", torch.cuda.is_bf16_supported())]
    notes = []
    if shutil.which("nvidia-smi"):
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
        notes.append(f"nvidia-smi: {smi.stdout.strip() or smi.stderr.strip()}")
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        figs.append(figure("git_commit", commit or "unknown"))
    except (OSError, subprocess.SubprocessError):
        pass
    for name in ("torchdata", "basicsr", "diffusers"):
        try:
            if name == "basicsr":
                from degrade_stream import compat

                compat.alias_torchvision_functional_tensor()
            __import__(name)
            figs.append(figure(f"import_{name}", "ok"))
        except Exception as err:  # noqa: BLE001 - any import failure is worth recording
            figs.append(figure(f"import_{name}", f"missing: {type(err).__name__}: {err}"[:200]))
    return {"figures": figs}


def part_cuda_tests(a: Namespace, device: torch.device) -> dict:
    """The test suite's CUDA tests (names containing 'cuda'); a failure makes this part fail."""
    target = SIZES[a.quick]["test_target"]
    xml = Path(a.work) / "cuda_tests.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "cuda", f"--junitxml={xml}", target]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    print(proc.stdout[-6000:], proc.stderr[-3000:], sep="\n")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failed = []
    if xml.exists():
        import xml.etree.ElementTree as ET

        root = ET.parse(xml).getroot()
        suite = root if root.tag == "testsuite" else root.find("testsuite")
        counts = {k: int(suite.get(k, 0)) for k in counts}
        failed = [f"{c.get('classname')}::{c.get('name')}" for c in suite.iter("testcase")
                  if c.find("failure") is not None or c.find("error") is not None]
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    result = {"figures": [figure("passed", passed), figure("failed", counts["failures"] + counts["errors"]),
                          figure("skipped", counts["skipped"])],
              "notes": [f"failed: {name}" for name in failed]}
    if proc.returncode not in (0, 5):  # 5: nothing selected
        raise PartFailed(f"pytest exited {proc.returncode}; failed: {failed}", result)
    return result


class PartFailed(RuntimeError):
    """A part that ran but whose outcome is a failure; carries the figures it did get."""

    def __init__(self, message: str, result: dict) -> None:
        super().__init__(message)
        self.result = result


def part_degraders(a: Namespace, device: torch.device) -> dict:
    """Images/s of each shipped degradation model and of BasicSR's Real-ESRGAN pipeline, same device, same batch."""
    import bench_degraders as bd

    import degrade_stream as ds

    size_cfg = SIZES[a.quick]
    models = size_cfg["deg_models"] or bd.MODELS
    notes, rows = [], []
    try:
        basicsr: Callable | None = bd.BasicSRRealESRGAN(device)
    except Exception as err:  # noqa: BLE001 - BasicSR is optional; its import fails in many ways
        basicsr = None
        notes.append(f"BasicSR not importable ({type(err).__name__}: {err}); degrade_stream timed alone")
    for batch, size in size_cfg["deg_cases"]:
        random.seed(0)
        np.random.seed(0)
        torch.manual_seed(0)
        hq = bd.hq_batch(batch, size).to(device)
        runners: dict[str, Callable] = {}
        if basicsr is not None:
            runners["BasicSR Real-ESRGAN"] = basicsr
        for name in models:
            chain = ds.load_chain(name, device=device)
            runners[name] = lambda x, chain=chain, it=iter(range(10 ** 9)): chain(x, seed=next(it) * 7919).lq
        times: dict[str, list[float]] = {k: [] for k in runners}
        with torch.no_grad():
            for fn in runners.values():
                fn(hq)
            for _ in range(size_cfg["deg_rounds"]):
                for key, fn in runners.items():
                    sync(device)
                    start = time.perf_counter()
                    fn(hq)
                    sync(device)
                    times[key].append(time.perf_counter() - start)
        base = statistics.median(times["BasicSR Real-ESRGAN"]) if basicsr is not None else None
        for key, ts in times.items():
            med = statistics.median(ts)
            rows.append({"pipeline": key, "batch": batch, "hq_size": size, "s_per_batch": round(med, 5),
                         "images_per_s": round(batch / med, 1),
                         "vs_basicsr": round(base / med, 2) if base else None})
    figs = [figure(f"{r['pipeline']}@{r['hq_size']}", r["images_per_s"], "images/s") for r in rows]
    return {"figures": figs, "tables": {"degraders (x4, interleaved rounds, median)": rows}, "notes": notes}


def part_refiner(a: Namespace, device: torch.device) -> dict:
    """ddpm_refine images/s and achieved TFLOP/s against the measured matmul rate (bf16 on CUDA, fp32 on CPU);
    levers (channels_last, bf16); and the cost that follows t (t uniform in [0, 250] with and without t_per_step)."""
    import bench_refiner as br

    from degrade_stream.diffusion.refine import DDPMRefine

    cfg = SIZES[a.quick]
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    peak = br.matmul_rate(device, dtype, n=cfg["matmul_n"], reps=10 if a.quick else 20)
    figs = [figure(f"matmul_{str(dtype).split('.')[-1]}", round(peak / 1e12, 3), "TFLOP/s")]
    checkpoints = {"tiny": "bundled"}
    if any(c[0] == "release" for c in cfg["ref_cases"]):
        checkpoints["release"] = br.release_checkpoint(Path(a.work) / "release_unet")
    rows = []

    def measure(model: str, size: int, batch: int, steps: int, label: str, cl: bool | None = None,
                bf16: bool | None = None) -> dict:
        stage = DDPMRefine(checkpoint=checkpoints[model], t_range=(0, 1000), steps=steps)
        denoiser = stage.denoiser(device)
        if cl is not None:
            br.set_levers(denoiser, cl, bool(bf16))
        flops = br.forward_flops(denoiser, size) * min(steps, 250)
        x = torch.rand(batch, 3, size, size, device=device)
        seconds = br.time_batch(stage, x, 250, cfg["ref_rounds"])
        rate = flops * batch / seconds
        row = {"unet": model, "lq_size": size, "batch": batch, "ddim_steps": steps, "setting": label,
               "s_per_batch": round(seconds, 4), "images_per_s": round(batch / seconds, 2),
               "achieved_TFLOPs": round(rate / 1e12, 3), "of_matmul_rate": round(rate / peak, 4)}
        rows.append(row)
        return row

    default = "bf16 + channels_last (auto on CUDA)" if device.type == "cuda" else "fp32 (auto on CPU)"
    for model, size, batch, steps in cfg["ref_cases"]:
        measure(model, size, batch, steps, default)
    model, size, batch, steps = cfg["ref_levers"]
    for cl, bf16 in ((True, True), (False, True), (True, False), (False, False)):
        measure(model, size, batch, steps, f"channels_last={cl}, bf16={bf16}", cl, bf16)
    best = max(rows, key=lambda r: r["of_matmul_rate"])
    figs.append(figure("best_fraction_of_matmul_rate", best["of_matmul_rate"], f"({best['unet']}, {best['setting']})"))
    size, batch = cfg["ref_follow"]
    follow = br.follow_t_rows("bundled", device, size, batch, cfg["ref_rounds"])
    fixed, per_t = follow[0]["seconds"], follow[1]["seconds"]
    zero, top = follow[5]["seconds"], follow[3]["seconds"]
    figs += [figure("t_uniform_speedup_with_t_per_step", round(fixed / per_t, 2), "x"),
             figure("all_t0_cost_vs_all_t250", round(zero / top, 5), "fraction")]
    for r in follow:
        r["seconds"], r["cpu_seconds"] = round(r["seconds"], 5), round(r["cpu_seconds"], 5)
        r["images_per_s"] = round(r["images_per_s"], 2)
    return {"figures": figs, "tables": {"refiner (t = 250 per sample)": rows, "refiner cost that follows t": follow}}


def part_stream(a: Namespace, device: torch.device) -> dict:
    """PairStream overhead against the bare loader and against chains called by hand (bench_stream.py)."""
    import bench_stream as bs

    s = SIZES[a.quick]["stream"]
    lines = bs.bench_overhead(device, s["repeats"], s["items"], s["batch"], s["size"], s["workers"])
    for chain in ("bicubic", "realesrgan"):
        lines += bs.bench_chain(device, chain, s["repeats"], s["items"], s["batch"], s["size"], s["workers"])
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append(dict(zip(("benchmark", "bare_or_by_hand", "pair_stream", "difference"), cells)))
    return {"tables": {"stream (pairs/s)": rows}}


def resolve_recipe(name: str) -> tuple[Path, str]:
    """The recipe's YAML (a shipped name or a path); a missing ``ddpm_local`` falls back to ddpm_tiny, said so."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path, ""
    shipped = ROOT / "configs" / "ddpm" / f"{name}.yaml"
    if shipped.is_file():
        return shipped, ""
    fallback = ROOT / "configs" / "ddpm" / "ddpm_tiny.yaml"
    return fallback, f"recipe {name!r} not found (no {shipped}); trained ddpm_tiny instead"


def part_train(a: Namespace, device: torch.device) -> dict:
    """train-ddpm of the recipe with bf16 on CUDA for ``--train-seconds``, stopped there (latest checkpoint kept)."""
    from degrade_stream.diffusion.checkpoint import list_checkpoints

    recipe, note = resolve_recipe(a.recipe)
    config = yaml.safe_load(recipe.read_text())
    config.update(precision="bf16" if device.type == "cuda" else "auto", keep_checkpoints=2)
    config.update(SIZES[a.quick]["train_overrides"])  # the recipe's own steps stay: time or steps, whichever first
    out = Path(a.work) / "train"
    shutil.rmtree(out, ignore_errors=True)
    used = Path(a.work) / "recipe_used.yaml"
    used.write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = cli("train-ddpm", "--config", used, "--lq", a.lq, "--out", out, "--device", device, "--no-progress")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)  # in this part's process group: a stop of the part stops it too
    try:
        code = proc.wait(timeout=a.train_seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)  # stopped by time, as planned; its loader workers exit with it
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    seconds = time.perf_counter() - start
    checkpoints = list_checkpoints(out)
    if not checkpoints:
        raise PartFailed(f"train-ddpm exited {code} and left no checkpoint in {out}", {"notes": [note] if note else []})
    log = out / "train_log.csv"
    rows = list(csv.DictReader(log.open())) if log.exists() else []
    figs = [figure("recipe", recipe.stem), figure("wall_s", round(seconds, 1), "s"),
            figure("checkpoint", str(checkpoints[-1]))]
    if rows:
        last = rows[-1]
        step = int(float(last.get("step", 0)))
        figs += [figure("steps", step), figure("steps_per_s", round(step / seconds, 2), "steps/s"),
                 figure("last_loss", last.get("loss"))]
    (Path(a.work) / "trained_model.txt").write_text(str(out))
    return {"figures": figs, "notes": [note] if note else [], "files": [str(log)] if log.exists() else []}


def part_sweep(a: Namespace, device: torch.device) -> dict:
    """``degrade-stream sweep`` of realesrgan_ddpm refined by the model the train part made (DDIM, t_per_step 10)."""
    marker = Path(a.work) / "trained_model.txt"
    model = a.model or (marker.read_text().strip() if marker.exists() else "")
    if not model:
        raise PartFailed("no model to sweep: the train part left none (and no --model was given)", {})
    chain = yaml.safe_load((ROOT / "configs" / "chains" / "realesrgan_ddpm.yaml").read_text())
    for stage in chain["stages"]:
        if stage.get("type") == "ddpm_refine":
            stage.update(checkpoint=model, t_per_step=10)
    chain_path = Path(a.work) / "sweep_chain.yaml"
    chain_path.write_text(yaml.safe_dump(chain, sort_keys=False))
    hq = Path(a.hq)
    count = SIZES[a.quick]["sweep_images"]
    if count:
        hq = Path(a.work) / "sweep_hq"
        shutil.rmtree(hq, ignore_errors=True)
        hq.mkdir()
        for path in sorted(p for p in Path(a.hq).iterdir() if p.suffix.lower() in (".png", ".jpg"))[:count]:
            shutil.copy(path, hq / path.name)
    out = Path(a.work) / "sweep"
    shutil.rmtree(out, ignore_errors=True)
    extra = ["--patches-per-image", "16", "--no-classifier"] if a.quick else []
    cmd = cli("sweep", "--config", chain_path, "--hq", hq, "--real", a.lq, "--t", SIZES[a.quick]["sweep_t"],
              "--out", out, "--device", device, *extra)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n")
    table = out / "sweep.csv"
    if proc.returncode != 0 or not table.exists():
        raise PartFailed(f"sweep exited {proc.returncode}: {proc.stderr.strip()[-500:]}", {})
    rows = list(csv.DictReader(table.open()))
    return {"tables": {f"sweep with {model}": rows}, "files": [str(table)]}


PARTS: dict[str, Callable[[Namespace, torch.device], dict]] = {
    "env": part_env, "cuda_tests": part_cuda_tests, "degraders": part_degraders, "refiner": part_refiner,
    "stream": part_stream, "train": part_train, "sweep": part_sweep,
}


def run_part(name: str, a: Namespace) -> int:
    """Run one part in this process and write ``<work>/<name>.json``; exit status 0 ok, 1 failed."""
    device = torch.device(a.device)
    status, error = "ok", ""
    try:
        result = PARTS[name](a, device)
    except PartFailed as err:
        status, error, result = "failed", str(err), err.result
    except Exception as err:  # noqa: BLE001 - a part's failure is recorded, the check goes on
        import traceback

        traceback.print_exc()
        status, error, result = "failed", f"{type(err).__name__}: {err}", {}
    result.update(status=status, error=error)
    with tempfile.NamedTemporaryFile("w", dir=a.work, suffix=".tmp", delete=False) as handle:
        json.dump(result, handle, indent=1, default=str)
    os.replace(handle.name, Path(a.work) / f"{name}.json")
    return 0 if status == "ok" else 1
