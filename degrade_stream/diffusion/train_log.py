"""``train_log.csv`` in a training ``--out`` folder: one row per ``log_every`` steps (step, loss, lr,
seconds of training so far). A resumed run keeps the rows up to its checkpoint's step and appends."""
from __future__ import annotations

import csv
import os
import time
from pathlib import Path

from ..atomic import write_error, write_text_atomic

LOG_FILE = "train_log.csv"
COLUMNS = ("step", "loss", "lr", "seconds")


class TrainLog:
    """Appends rows to ``out/train_log.csv``; ``seconds`` continues across resumed runs."""

    def __init__(self, out_dir: str | os.PathLike, start_step: int) -> None:
        self.path = Path(out_dir) / LOG_FILE
        self.offset = 0.0
        kept: list[dict[str, str]] = []
        if start_step > 0 and self.path.is_file():
            try:
                with self.path.open(newline="", encoding="utf-8") as f:
                    rows = list(csv.DictReader(f))
                kept = [r for r in rows if int(r["step"]) <= start_step]
                self.offset = float(kept[-1]["seconds"]) if kept else 0.0
            except (KeyError, ValueError, csv.Error):  # a damaged log is started afresh, not trusted
                kept, self.offset = [], 0.0
        lines = [",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in kept]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path, "\n".join(lines) + "\n")
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        """Training seconds so far, this run and the runs it resumed."""
        return self.offset + time.perf_counter() - self.started

    def write(self, step: int, loss: float, lr: float) -> float:
        """Append one row; returns its ``seconds``."""
        seconds = self.seconds
        try:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(f"{step},{loss:.6g},{lr:.6g},{seconds:.1f}\n")
        except OSError as err:  # a full disk names no file by itself
            raise write_error(err, self.path) from None
        return seconds
