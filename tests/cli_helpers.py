"""Running the installed ``degrade-stream`` console script in tests, and small image folders."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def console_script() -> str:
    """The ``degrade-stream`` script installed beside this interpreter (else on PATH)."""
    beside = Path(sys.executable).parent / "degrade-stream"
    exe = str(beside) if beside.exists() else shutil.which("degrade-stream")
    assert exe, "the degrade-stream console script is not installed"
    return exe


def cli_env() -> dict[str, str]:
    """The environment of CLI runs: one intra-op thread. The test workloads are tiny, and on a shared
    2-core machine torch's thread pool costs several times more than it gains (measured: the
    two-sample classifier took 7.1 s with 2 threads, 1.1 s with 1, under load)."""
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def run_cli(*args: str | Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``degrade-stream ARGS`` and capture its output."""
    return subprocess.run([console_script(), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=cli_env())


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every non-hidden file under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")
            and ".parts" not in p.parts}


def degrade_heavily(src: Path, dst: Path, seed: int = 0) -> None:
    """Write each image of ``src`` to ``dst`` with strong Gaussian noise and JPEG quality 10."""
    dst.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)  # test data only; the library never uses a global RNG
    for path in sorted(src.iterdir()):
        image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
        noisy = np.clip(image + rng.normal(0.0, 0.08, image.shape), 0, 1)
        Image.fromarray((noisy * 255).round().astype(np.uint8)).save(dst / f"{path.stem}.jpg", quality=10)
