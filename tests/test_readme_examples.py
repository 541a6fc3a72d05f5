"""Every ```python block of README.md runs as written. The test provides only what stands for the user's own
code: ``loader`` (their DataLoader, small tensors), ``train_step``, ``epochs``, the ``hq``/``keys`` of the
pair-cache example and ``hq_folder`` (their image folder: tests/data/hq); nothing of degrade_stream is mocked.
A block that starts Ray (``ray.init``) is marked slow (a local Ray instance takes tens of seconds to start). A README example that does not run fails here."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from degrade_stream.core import registry

README = Path(__file__).parent.parent / "README.md"


def python_blocks(text: str) -> list[tuple[str, int, str]]:
    """(section heading, first line number, code) of each ```python block, in order."""
    blocks, heading, code, start = [], "", None, 0
    for number, line in enumerate(text.splitlines(), 1):
        if code is None and line.startswith("#"):
            heading = line.lstrip("# ").strip()
        elif code is None and line.strip() == "```python":
            code, start = [], number + 1
        elif code is not None and line.strip() == "```":
            blocks.append((heading, start, "\n".join(code) + "\n"))
            code = None
        elif code is not None:
            code.append(line)
    assert code is None, f"README.md: a ```python block opened at line {start} is never closed"
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))
IDS = [f"L{line}-{re.sub(r'[^a-z0-9]+', '-', heading.lower()).strip('-')}" for heading, line, _ in BLOCKS]
PARAMS = [pytest.param(b, marks=pytest.mark.slow) if "ray.init(" in b[2] else b for b in BLOCKS]


class TrainStep:
    """The user's training step: records what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def __call__(self, lq: torch.Tensor, gt: torch.Tensor) -> None:
        assert lq.dtype == gt.dtype == torch.float32 and 0 <= float(lq.min()) and float(lq.max()) <= 1
        self.calls.append((tuple(lq.shape), tuple(gt.shape)))


def user_namespace() -> dict:
    """Stand-ins for the user's objects: 4 HQ images of 64x64 in batches of 2, 2 epochs, 2 cache keys, a folder."""
    images = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    return {"__name__": "readme_example", "loader": DataLoader(images, batch_size=2), "epochs": 2,
            "train_step": TrainStep(), "hq": images[:2].clone(), "keys": ["a.png", "b.png"],
            "hq_folder": str(Path(__file__).parent / "data" / "hq")}


def test_the_readme_has_the_examples_this_test_is_meant_to_run():
    headings = [heading for heading, _, _ in BLOCKS]
    assert len(BLOCKS) >= 5, headings
    for section in ("Use it from Python", "Streaming and the pair cache", "Your own stage", "mmagic"):
        assert section in headings, f"no ```python block under '{section}': {headings}"


@pytest.mark.parametrize("block", PARAMS, ids=IDS)
def test_readme_python_block_runs(block, tmp_path, monkeypatch):
    heading, line, code = block
    monkeypatch.chdir(tmp_path)  # examples that write (a cache folder) write here
    registry.registered_names()  # built-in stages registered before the copy
    monkeypatch.setattr(registry, "_TRANSFORMS", dict(registry._TRANSFORMS))  # its @register leaves nothing behind
    namespace = user_namespace()
    exec(compile(code, f"README.md:{line}", "exec"), namespace)
    if "train_step(" in code:  # the training loop really ran, on the LQ/GT the stream made
        assert namespace["train_step"].calls == [((2, 3, 16, 16), (2, 3, 64, 64))] * 4
    if "@ds.register" in code:  # the custom stage loads from a config and runs
        out = namespace["out"]
        assert out.lq.shape == (2, 3, 32, 32) and out.params[0]["sigma"].shape == (2,)
    if "write_parquet(" in code:  # the Ray example wrote one row per image of the folder
        import pyarrow.parquet as pq

        table = pq.read_table(tmp_path / "pairs_parquet")
        assert sorted(table.column("key").to_pylist()) == sorted(p.name for p in Path(namespace["hq_folder"]).iterdir())
    if "cache.synthesize" in code:
        assert namespace["lq"].shape == (2, 3, 16, 16) and not namespace["info"].hit.any()
