"""Writing one batch's pair files into a ``synthesize --out`` folder, one input at a time.

Each input (source file) of the batch is written by one job: its GT, then its LQ files, each atomically
(``atomic.write_bytes_atomic``). With ``--variants K`` every LQ gets a GT file of its own name
(``gt/<name>_v<k>.png``), hard links of one PNG (a copy where the file system has no hard links), so gt/
and lq/ hold the same names, as BasicSR's PairedImageDataset and mmagic's BasicImageDataset pair them
(BasicSR, basicsr/data/data_util.py, ``paired_paths_from_folder``).

An input whose output name the file system refuses (too long, an invalid character) loses the files its
job wrote and is reported back to be listed in skipped.txt; the other inputs of the batch keep theirs.
Any other error (a full disk, say) is raised after every job has finished, so the pairs already complete
are recorded first.
"""
from __future__ import annotations

import errno
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from torch import Tensor

from ..atomic import atomic_target, write_bytes_atomic
from ..io import encode_png
from ..offline.pair_plan import PairUnit

#: errno values that mean "this name cannot be written here", not "the disk or folder is unusable".
NAME_ERRORS = frozenset({errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL})


def gt_relpath(unit: PairUnit) -> str:
    """Where a unit's GT goes: ``gt/<name>.png``, or ``gt/<name>_v<k>.png`` with variants."""
    return f"gt/{unit.lq_name}.png"


def lq_relpath(unit: PairUnit) -> str:
    """Where a unit's LQ goes: ``lq/<name>.png``, or ``lq/<name>_v<k>.png`` with variants."""
    return f"lq/{unit.lq_name}.png"


def link_or_copy(source: Path, target: Path) -> None:
    """Make ``target`` a hard link of ``source`` (a copy where links are not possible), atomically."""
    with atomic_target(target) as tmp:
        try:
            os.link(source, tmp)
        except OSError as err:
            if err.errno in NAME_ERRORS:
                raise
            shutil.copyfile(source, tmp)


@dataclass
class BatchFiles:
    """What writing a batch gave: the units whose two files are in place, the inputs whose names the file
    system refused (key -> reason), and the first other error (to raise once the written ones are recorded)."""

    written: list[PairUnit]
    failed: dict[str, str]
    error: BaseException | None = None


def _write_source(out: Path, units: list[PairUnit], gt: Tensor, lq: dict[PairUnit, Tensor]) -> None:
    """Write one input's GT file(s) and LQ files; on any error remove what this call wrote."""
    made: list[Path] = []
    try:
        first = out / gt_relpath(units[0])
        write_bytes_atomic(first, encode_png(gt))
        made.append(first)
        for unit in units[1:]:
            link_or_copy(first, out / gt_relpath(unit))
            made.append(out / gt_relpath(unit))
        for unit in units:
            write_bytes_atomic(out / lq_relpath(unit), encode_png(lq[unit]))
            made.append(out / lq_relpath(unit))
    except BaseException:
        for path in made:
            path.unlink(missing_ok=True)
        raise


def write_batch_files(out: Path, units: list[PairUnit], hq: dict[str, Tensor], lq: dict[PairUnit, Tensor],
                      pool: ThreadPoolExecutor) -> BatchFiles:
    """Write the files of ``units`` (HQ by source key, LQ by unit), one job per input, in parallel."""
    by_source: dict[str, list[PairUnit]] = {}
    for unit in units:
        by_source.setdefault(unit.key, []).append(unit)
    jobs = {key: pool.submit(_write_source, out, group, hq[key], lq) for key, group in by_source.items()}
    written: list[PairUnit] = []
    failed: dict[str, str] = {}
    other: BaseException | None = None
    for key, job in jobs.items():
        try:
            job.result()
        except OSError as err:
            if err.errno not in NAME_ERRORS:
                other = other or err
                continue
            names = ", ".join(lq_relpath(u) for u in by_source[key][:1])
            failed[key] = f"the file system refuses its output name ({err.strerror or err}): {names}"
            continue
        except BaseException as err:  # noqa: BLE001 - the caller raises it once the written pairs are recorded
            other = other or err
            continue
        written.extend(by_source[key])
    return BatchFiles(written=written, failed=failed, error=other)
