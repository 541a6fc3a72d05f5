"""The offline writer's output folder: ownership check, per-shard record files, merged pairs.jsonl.

Layout (BasicSR's PairedImageDataset / mmagic's BasicImageDataset read gt/ and lq/ unchanged):
  gt/<name>.png, lq/<name>.png (or lq/<name>_v<k>.png), pairs.jsonl, skipped.txt,
  chain.yaml (the resolved chain config), run.json (config hash, seed, variants: what the pairs are).
Each shard appends one JSON line per finished pair to .parts/<shard>.jsonl only after both images
were renamed into place, so a record always points at complete files; the merge into pairs.jsonl
happens under a file lock.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..atomic import write_text_atomic

RUN_FILE = "run.json"
CHAIN_FILE = "chain.yaml"
PAIRS_FILE = "pairs.jsonl"
SKIPPED_FILE = "skipped.txt"
PARTS_DIR = ".parts"
OWNED = ("gt", "lq", PAIRS_FILE, SKIPPED_FILE, CHAIN_FILE)
_TMP_PATTERN = re.compile(r"^\..+\.(\d+)\.tmp$")


def prepare_output(out: Path, run_info: dict[str, Any], chain_config: dict[str, Any]) -> None:
    """Create or reopen ``out`` for pairs described by ``run_info``; refuse a folder that holds others."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} exists and is not a folder")
    run_path = out / RUN_FILE
    if run_path.exists():
        try:
            previous = json.loads(run_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{run_path} is not a valid run record ({err}); use another --out") from None
        differences = [f"{k} {previous.get(k)!r} there vs {run_info[k]!r} now" for k in run_info
                       if k != "degrade_stream" and previous.get(k) != run_info[k]]
        if differences:
            raise ValueError(f"--out {out} holds pairs from a different config ({'; '.join(differences)}); "
                             "use another --out folder or delete that one")
    else:
        for name in OWNED:
            if (out / name).exists():
                raise FileExistsError(f"{out / name} is in the way: --out {out} has no {RUN_FILE}, so it was not "
                                      "written by 'degrade-stream synthesize'; use an empty or new folder")
    for sub in ("gt", "lq", PARTS_DIR):
        if (out / sub).exists() and not (out / sub).is_dir():
            raise FileExistsError(f"{out / sub} is in the way: expected a folder, found a file")
        (out / sub).mkdir(parents=True, exist_ok=True)
    write_text_atomic(run_path, json.dumps(run_info, indent=1, sort_keys=True) + "\n")
    write_text_atomic(out / CHAIN_FILE, yaml.safe_dump(chain_config, sort_keys=False))


def remove_stale_temp_files(out: Path) -> int:
    """Delete temp files left by killed writers (their process no longer exists); returns how many."""
    removed = 0
    for sub in ("gt", "lq", "."):
        folder = out / sub
        for path in folder.glob(".*.tmp"):
            match = _TMP_PATTERN.match(path.name)
            if match and not _process_alive(int(match.group(1))):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a .jsonl file; a line cut short by a killed writer is ignored."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def read_skipped(out: Path) -> dict[str, str]:
    """skipped.txt as key -> reason (one 'key<TAB>reason' per line)."""
    path = out / SKIPPED_FILE
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, reason = line.partition("\t")
        if key:
            entries[key] = reason
    return entries


def finished_pairs(out: Path) -> dict[str, dict[str, Any]]:
    """Records (by LQ name) of pairs whose record exists and whose two files are in place."""
    records = read_jsonl(out / PAIRS_FILE)
    for part in sorted((out / PARTS_DIR).glob("*.jsonl")):
        records.extend(r for r in read_jsonl(part) if r.get("kind") == "pair")
    done = {}
    for record in records:
        lq_name = Path(str(record.get("lq", ""))).stem
        if lq_name and (out / record["lq"]).is_file() and (out / str(record.get("gt", ""))).is_file():
            done[lq_name] = {k: v for k, v in record.items() if k != "kind"}
    return done


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    with open(out / PARTS_DIR / "merge.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def merge_records(out: Path, own_part: Path | None) -> tuple[int, dict[str, str]]:
    """Fold every shard's records into pairs.jsonl and skipped.txt; drop ``own_part`` once merged.

    Returns (pairs listed, skipped key -> reason). A file that was skipped before and now has a
    pair leaves skipped.txt.
    """
    with _locked(out):
        pairs = finished_pairs(out)
        skipped = read_skipped(out)
        for part in sorted((out / PARTS_DIR).glob("*.jsonl")):
            for record in read_jsonl(part):
                if record.get("kind") == "skipped":
                    skipped[record["source"]] = record["reason"]
        written_sources = {r.get("source") for r in pairs.values()}
        skipped = {k: v for k, v in sorted(skipped.items()) if k not in written_sources}
        ordered = sorted(pairs.values(), key=lambda r: (r["name"], r.get("variant") or 0))
        write_text_atomic(out / PAIRS_FILE, "".join(json.dumps(r, sort_keys=True) + "\n" for r in ordered))
        if skipped:
            write_text_atomic(out / SKIPPED_FILE, "".join(f"{k}\t{v}\n" for k, v in skipped.items()))
        elif (out / SKIPPED_FILE).exists():
            (out / SKIPPED_FILE).unlink()
        if own_part is not None and own_part.exists():
            own_part.unlink()
    return len(ordered), skipped
