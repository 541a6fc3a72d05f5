"""One command for the GPU (issue 15): every CUDA path checked and every GPU figure recorded, in one folder.

    benchmarks/gpu_check.sh                      # on a GPU machine: the whole check, under 9 minutes on one H200
    benchmarks/gpu_check.sh --quick --out /tmp/q # on a CPU: tiny sizes, seconds (CI runs this)

Parts, in order, each in its own process with its own time limit (a part that fails or runs out of time
is recorded and the check goes on): ``env`` (machine, versions), ``cuda_tests`` (the suite's CUDA tests),
``degraders`` (every shipped model vs BasicSR's Real-ESRGAN pipeline on the same device), ``refiner``
(bf16, channels_last, achieved TFLOP/s vs the measured bf16 matmul rate, the cost that follows t),
``stream`` (PairStream overhead), ``train`` (3 minutes of ``train-ddpm`` of ``--recipe`` with bf16) and
``sweep`` (``degrade-stream sweep`` with the model just trained). The parts themselves are in
``gpu_check_parts.py``.

Writes to ``--out``: ``summary.md`` (every table), ``results.json`` (everything, per part), ``figures.csv``
(part, name, value, unit), ``log.txt`` (each part's output), and the train log and sweep table.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: (part, time limit in seconds on the GPU); the sum stays under 9 minutes with the train part's default 180 s
PLAN = [("env", 15), ("cuda_tests", 75), ("degraders", 50), ("refiner", 80), ("stream", 40), ("train", None),
        ("sweep", 70)]
QUICK_LIMIT_S = 240  # per part in --quick mode (a busy CPU)
BUDGET_S = 530       # the whole check on the GPU; later parts get what is left


def default_data(kind: str) -> Path:
    """``<data>/<kind>_natural`` from gpu_data/, shared/data or ../shared/data; else the test images."""
    for base in (ROOT / "gpu_data", ROOT / "shared" / "data", ROOT.parent / "shared" / "data"):
        if (base / f"{kind}_natural").is_dir():
            return base / f"{kind}_natural"
    return ROOT / "tests" / "data" / kind


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "runs" / "gpu_check"), help="folder for every figure")
    parser.add_argument("--work", default="", help="scratch folder (checkpoints, pairs); default: a temp folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a CPU (seconds)")
    parser.add_argument("--device", default="", help="default: cuda if available, else cpu")
    parser.add_argument("--recipe", default="ddpm_local", help="train-ddpm recipe (name or YAML); falls back to "
                                                               "ddpm_tiny, with a note, when it does not exist")
    parser.add_argument("--lq", default="", help="real LQ images for train and sweep (default: lq_natural if found)")
    parser.add_argument("--hq", default="", help="HQ images for the sweep (default: hq_natural if found)")
    parser.add_argument("--model", default="", help="checkpoint for the sweep (default: the one the train part made)")
    parser.add_argument("--train-seconds", type=float, default=180.0, help="train-ddpm time (default 3 minutes)")
    parser.add_argument("--only", default="", help="comma-separated parts to run (default: all)")
    parser.add_argument("--limit", action="append", default=[], metavar="PART=SECONDS", help="override a part's limit")
    parser.add_argument("--run-part", default="", help=argparse.SUPPRESS)  # internal: run one part in this process
    args = parser.parse_args(argv)
    names = [name for name, _ in PLAN]
    args.only = [p for p in args.only.split(",") if p] or names
    for part in args.only:
        if part not in names:
            parser.error(f"--only: unknown part {part!r}; expected some of {names}")
    limits = {}
    for item in args.limit:
        part, _, seconds = item.partition("=")
        if part not in names:
            parser.error(f"--limit {item!r}: unknown part {part!r}; expected one of {names}")
        try:
            limits[part] = float(seconds)
        except ValueError:
            parser.error(f"--limit {item!r}: expected PART=SECONDS")
    args.limits = limits
    if args.train_seconds <= 0:
        parser.error(f"--train-seconds must be > 0, got {args.train_seconds}")
    args.lq = args.lq or str(default_data("lq"))
    args.hq = args.hq or str(default_data("hq"))
    return args


def part_limit(args: argparse.Namespace, name: str, plan_limit: float | None) -> float:
    if name in args.limits:
        return args.limits[name]
    if args.quick:
        return QUICK_LIMIT_S
    return plan_limit if plan_limit is not None else args.train_seconds + 25  # train: start-up and the stop


def part_env(work: Path) -> dict[str, str]:
    """The environment of a part: this source tree importable, a ``degrade-stream`` command on PATH."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    if not shutil.which("degrade-stream") and not (Path(sys.executable).parent / "degrade-stream").exists():
        bin_dir = work / "bin"
        bin_dir.mkdir(exist_ok=True)
        script = bin_dir / "degrade-stream"
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m degrade_stream.cli.main "$@"\n')
        script.chmod(0o755)
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_one(args: argparse.Namespace, name: str, limit: float, work: Path, log) -> dict:
    """Run part ``name`` in a child process (its own session, killed at ``limit``); its result dict."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-part", name, "--work", str(work),
           "--device", args.device, "--recipe", args.recipe, "--lq", args.lq, "--hq", args.hq,
           "--train-seconds", str(args.train_seconds), *(["--model", args.model] if args.model else []),
           *(["--quick"] if args.quick else [])]
    log.write(f"\n===== {name} (limit {limit:.0f} s) =====\n")
    log.flush()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=part_env(work), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    timed_out = False
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
    seconds = time.perf_counter() - start
    path = work / f"{name}.json"
    result = json.loads(path.read_text()) if path.exists() and not timed_out else {}
    if timed_out:
        result.update(status="timeout", error=f"stopped at its limit of {limit:.0f} s")
    elif not result:
        result.update(status="failed", error=f"the part's process exited {proc.returncode} without a result")
    result.update(seconds=round(seconds, 1), limit_s=limit)
    log.write(f"===== {name}: {result['status']} in {seconds:.1f} s {result.get('error', '')}\n")
    log.flush()
    return result


def markdown_table(rows: list[dict]) -> list[str]:
    if not rows:
        return ["(no rows)"]
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return lines


def write_outputs(out: Path, results: dict, args: argparse.Namespace, total: float) -> None:
    """summary.md, results.json, figures.csv (each written to a temp file and renamed)."""
    def write(name: str, text: str) -> None:
        tmp = out / f".{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, out / name)

    write("results.json", json.dumps({"quick": args.quick, "total_s": round(total, 1), "parts": results},
                                     indent=1, default=str))
    rows = [[part, f["name"], f["value"], f.get("unit", "")] for part, r in results.items() for f in r.get("figures", [])]
    with tempfile.NamedTemporaryFile("w", dir=out, suffix=".tmp", delete=False, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["part", "name", "value", "unit"])
        writer.writerows(rows)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, out / "figures.csv")
    lines = [f"# GPU check{' (--quick)' if args.quick else ''}", "",
             f"Total {total:.0f} s. Data: LQ {args.lq}, HQ {args.hq}. Recipe: {args.recipe}.", "",
             "| part | status | seconds | limit | error |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {p} | {r['status']} | {r['seconds']} | {r['limit_s']:.0f} | {str(r.get('error', ''))[:200]} |"
              for p, r in results.items()]
    for part, r in results.items():
        if r.get("figures") or r.get("tables") or r.get("notes"):
            lines += ["", f"## {part}", ""]
        for f in r.get("figures", []):
            lines.append(f"- {f['name']}: {f['value']} {f.get('unit', '')}".rstrip())
        for note in r.get("notes", []):
            lines.append(f"- note: {note}")
        for title, table in r.get("tables", {}).items():
            lines += ["", f"**{title}**", "", *markdown_table(table)]
    write("summary.md", "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.run_part:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        if not args.device:
            import torch

            args.device = "cuda" if torch.cuda.is_available() else "cpu"
        from gpu_check_parts import run_part

        return run_part(args.run_part, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="gpu_check_"))
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    deadline = start + (10 ** 9 if args.quick else BUDGET_S)
    results: dict[str, dict] = {}
    with (out / "log.txt").open("w") as log:
        for name, plan_limit in PLAN:
            if name not in args.only:
                continue
            remaining = deadline - time.perf_counter()
            limit = min(part_limit(args, name, plan_limit), remaining)
            if remaining < 5:
                results[name] = {"status": "skipped", "error": "the check's time budget is spent", "seconds": 0,
                                 "limit_s": 0}
                continue
            results[name] = run_one(args, name, limit, work, log)
            print(f"{name}: {results[name]['status']} ({results[name]['seconds']} s)", flush=True)
            for file in results[name].get("files", []):
                if Path(file).is_file():
                    shutil.copy(file, out / Path(file).name)
    write_outputs(out, results, args, time.perf_counter() - start)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    failed = [p for p, r in results.items() if r["status"] != "ok"]
    print(f"gpu check: {len(results) - len(failed)} of {len(results)} parts ok"
          f"{'; not ok: ' + ', '.join(failed) if failed else ''}; figures in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
