"""The offline writer's output folder: ownership check, per-shard record files, merged pairs.jsonl.

Layout (BasicSR's PairedImageDataset / mmagic's BasicImageDataset read gt/ and lq/ unchanged):
  gt/<name>.png, lq/<name>.png (with variants gt/<name>_v<k>.png, hard links of one file, and
  lq/<name>_v<k>.png), pairs.jsonl, meta_info.txt (BasicSR's meta_info_file), skipped.txt,
  chain.yaml (the resolved chain config), run.json (config hash, seed, variants: what the pairs are).
Each shard appends one JSON line per finished pair to .parts/<shard>.jsonl only after both images
were renamed into place, so a record always points at complete files; the merge into pairs.jsonl
happens under a file lock.
"""
from __future__ import annotations

import fcntl
import json
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..atomic import claim_file, remove_stale_temps, write_text_atomic

RUN_FILE = "run.json"
CHAIN_FILE = "chain.yaml"
PAIRS_FILE = "pairs.jsonl"
SKIPPED_FILE = "skipped.txt"
PARTS_DIR = ".parts"
META_INFO_FILE = "meta_info.txt"
SHARDS_FILE = "shards.jsonl"
SHARD_NAME = re.compile(r"^pairs-\d{6}\.tar$")
OWNED = ("gt", "lq", PAIRS_FILE, SKIPPED_FILE, CHAIN_FILE, META_INFO_FILE, SHARDS_FILE)
#: run.json fields a folder written before they existed has implicitly (the folder layout)
RUN_DEFAULTS = {"format": "folder"}
TOP_FILES = (RUN_FILE, CHAIN_FILE, PAIRS_FILE, SKIPPED_FILE, META_INFO_FILE, SHARDS_FILE)


def prepare_output(out: Path, run_info: dict[str, Any], chain_config: dict[str, Any],
                   folders: tuple[str, ...] = ("gt", "lq")) -> None:
    """Create or reopen ``out`` for pairs described by ``run_info``; refuse a folder that holds others.

    Safe for any number of processes preparing one folder at once (torchrun ranks, ``--shard``
    processes): ``run.json`` is claimed atomically before anything else is created, so a process that
    finds ``gt/``, ``lq/`` or a shard also finds the claimer's ``run.json`` and checks its content. Every
    check runs before the first write, so a refusal leaves the folder as it was. ``folders``: the
    sub-folders the layout writes into (none for WebDataset shards).
    """
    check_out_path(out)
    run_path = out / RUN_FILE
    previous = read_run_record(out)
    if previous is None:
        blocking = [name for name in OWNED if (out / name).exists()] + sorted(p.name for p in out.glob("pairs-*.tar"))
        if blocking:
            previous = read_run_record(out)  # claimed by a concurrent process since the first look?
            if previous is None:
                raise FileExistsError(f"{out / blocking[0]} is in the way: --out {out} has no {RUN_FILE}, so it was "
                                      "not written by 'degrade-stream synthesize'; use an empty or new folder")
    if previous is not None:
        _check_same_run(out, previous, run_info)
    _check_kinds(out)
    out.mkdir(parents=True, exist_ok=True)
    if previous is None and not claim_file(run_path, json.dumps(run_info, indent=1, sort_keys=True) + "\n"):
        _check_same_run(out, read_run_record(out), run_info)  # another process claimed it first
    for sub in (*folders, PARTS_DIR):
        (out / sub).mkdir(exist_ok=True)
    write_text_atomic(out / CHAIN_FILE, yaml.safe_dump(chain_config, sort_keys=False))


def check_out_path(out: Path, option: str = "--out") -> None:
    """``out`` is a folder or can be made one: neither it nor its nearest existing parent is a file."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{option} {out} exists and is not a folder")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise FileExistsError(f"{option} {out}: {parent} is a file, not a folder")
            break


def _check_kinds(out: Path) -> None:
    """Folders where folders go and files where files go (a '.parts' file, a 'pairs.jsonl' folder: refused)."""
    for name in ("gt", "lq", PARTS_DIR):
        if (out / name).exists() and not (out / name).is_dir():
            raise FileExistsError(f"{out / name} is in the way: expected a folder, found a file")
    for name in (RUN_FILE, CHAIN_FILE, PAIRS_FILE, SKIPPED_FILE):
        if (out / name).is_dir():
            raise FileExistsError(f"{out / name} is in the way: expected a file, found a folder")


def read_run_record(out: Path) -> dict[str, Any] | None:
    """The content of ``out/run.json``; None when there is none; a clear error when it is not a run record."""
    path = out / RUN_FILE
    for attempt in range(20):
        try:  # one open, no exists-then-read: another process may create it between two looks
            text = path.read_text(encoding="utf-8")
            record = json.loads(text)
            break
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise FileExistsError(f"{path} is in the way: expected a file, found a folder") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            # Only where claim_file fell back to O_EXCL can a claimer still be writing it: wait a little.
            if attempt < 19 and time.time() - path.stat().st_mtime < 2.0:
                time.sleep(0.1)
                continue
            raise ValueError(f"{path} is not a valid run record ({err}); use another --out") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path} is not a run record written by 'degrade-stream synthesize' (expected a JSON "
                         f"object, found {type(record).__name__}); use another --out")
    return record


def _check_same_run(out: Path, previous: dict[str, Any] | None, run_info: dict[str, Any]) -> None:
    if previous is None:
        raise FileExistsError(f"{out / RUN_FILE} vanished while this run was preparing --out {out}")
    keys = [k for k in run_info if k != "degrade_stream"] + [k for k in previous if k not in run_info
                                                              and k != "degrade_stream"]
    there, now = {**RUN_DEFAULTS, **previous}, {**RUN_DEFAULTS, **run_info}
    differences = [f"{k} {there.get(k)!r} there vs {now.get(k)!r} now" for k in keys if there.get(k) != now.get(k)]
    if differences:
        raise ValueError(f"--out {out} holds pairs from a different config ({'; '.join(differences)}); "
                         "use another --out folder or delete that one")


def writes_at_top(name: str) -> bool:
    """Whether synthesize writes a file of this name at the top of --out (the targets its cleanup may touch)."""
    return name in TOP_FILES or SHARD_NAME.match(name) is not None


def remove_stale_temp_files(out: Path) -> int:
    """Delete the temp files of killed writers (the rule of ``atomic.is_stale_temp``: writer not alive on
    this host, or older than an hour when written elsewhere): any in gt/ and lq/, which synthesize owns,
    and at the top of ``out`` only those for the files synthesize writes there. Returns how many."""
    return (sum(remove_stale_temps(out / sub) for sub in ("gt", "lq"))
            + remove_stale_temps(out, owns=writes_at_top))


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


_RECORDED_FILE = re.compile(r"^(gt|lq)/[^/\x00]+\.png$")


def _pair_records(out: Path) -> list[dict[str, Any]]:
    """Every pair record of pairs.jsonl and the shards' part files, oldest first, whose gt and lq name files
    in gt/ and lq/ (a record naming anything else is not one this writer made, and is ignored)."""
    records = read_jsonl(out / PAIRS_FILE)
    for part in sorted((out / PARTS_DIR).glob("*.jsonl")):
        records.extend(r for r in read_jsonl(part) if r.get("kind") == "pair")
    return [r for r in records if all(isinstance(r.get(k), str) and _RECORDED_FILE.match(r[k]) for k in ("gt", "lq"))]


def write_skipped(out: Path, skipped: dict[str, str]) -> None:
    """skipped.txt ('key<TAB>reason' per line), or no such file when nothing was skipped."""
    if skipped:
        write_text_atomic(out / SKIPPED_FILE, "".join(f"{k}\t{v}\n" for k, v in skipped.items()))
    elif (out / SKIPPED_FILE).exists():
        (out / SKIPPED_FILE).unlink()


def finished_pairs(out: Path) -> dict[str, dict[str, Any]]:
    """The latest record (by LQ name) of each pair whose two files are in place."""
    done = {}
    for record in _pair_records(out):
        lq_name = Path(record["lq"]).stem
        if (out / record["lq"]).is_file() and (out / record["gt"]).is_file():
            done[lq_name] = {k: v for k, v in record.items() if k != "kind"}
        else:
            done.pop(lq_name, None)
    return done


def retract_pairs(out: Path, records: list[dict[str, Any]]) -> None:
    """Delete the gt and lq files of these pair records (pairs of an input that changed and can no longer be
    used); the merge then drops their records, as their files are gone."""
    for record in records:
        for key in ("gt", "lq"):
            if isinstance(record.get(key), str) and _RECORDED_FILE.match(record[key]):
                (out / record[key]).unlink(missing_ok=True)


def _drop_superseded_files(out: Path, current: list[dict[str, Any]]) -> None:
    """Delete gt files that an earlier record of a pair named and no current record does (a pair redone
    under a new layout: gt/<name>.png before per-variant GT files). Only recorded files are touched."""
    kept = {r["gt"] for r in current} | {r["lq"] for r in current}
    names = {r["lq"] for r in current}
    for record in _pair_records(out):
        if record["gt"] not in kept and record["lq"] in names:
            (out / record["gt"]).unlink(missing_ok=True)


def write_meta_info(out: Path, records: list[dict[str, Any]]) -> None:
    """meta_info.txt: one line per pair, its GT file name relative to gt/ and its size as BasicSR's meta info
    files write it (``name.png (H,W,3)``), for PairedImageDataset's ``meta_info_file`` option."""
    lines = []
    for record in records:
        size = record.get("hq_size")
        shape = f" ({size[0]},{size[1]},3)" if isinstance(size, list) and len(size) == 2 else ""
        lines.append(Path(record["gt"]).name + shape + "\n")
    write_text_atomic(out / META_INFO_FILE, "".join(lines))


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the output folder's merge lock (``.parts/merge.lock``, an exclusive flock)."""
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
    with locked(out):
        pairs = finished_pairs(out)
        skipped = read_skipped(out)
        for part in sorted((out / PARTS_DIR).glob("*.jsonl")):
            for record in read_jsonl(part):
                if record.get("kind") == "skipped":
                    skipped[record["source"]] = record["reason"]
        written_sources = {r.get("source") for r in pairs.values()}
        skipped = {k: v for k, v in sorted(skipped.items()) if k not in written_sources}
        ordered = sorted(pairs.values(), key=lambda r: (r["name"], r.get("variant") or 0))
        _drop_superseded_files(out, ordered)
        write_text_atomic(out / PAIRS_FILE, "".join(json.dumps(r, sort_keys=True) + "\n" for r in ordered))
        write_meta_info(out, ordered)
        write_skipped(out, skipped)
        if own_part is not None and own_part.exists():
            own_part.unlink()
    return len(ordered), skipped
