"""Every ```python block of README.md and of the guide's pages (docs/*.md) runs as written, and every ```yaml block
that holds a chain (``stages:``) loads into one. The test provides only what stands for the user's own code:
``loader`` (their DataLoader, small tensors), ``train_step``, ``epochs``, the ``hq``/``keys`` of the pair-cache
example and ``hq_folder`` (their image folder: tests/data/hq); nothing of degrade_stream is mocked. A block that
starts Ray (``ray.init``) is marked slow (a local Ray instance takes tens of seconds to start). A documented
example that does not run fails here."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from torch.utils.data import DataLoader

import degrade_stream as ds
from degrade_stream.core import registry

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]


def fenced_blocks(text: str, language: str, source: str = "README.md") -> list[tuple[str, int, str]]:
    """(section heading, first line number, code) of each ```<language> block, in order (a ``#`` line inside
    another fenced block is code, not a heading)."""
    blocks, heading, code, start, other = [], "", None, 0, False
    for number, line in enumerate(text.splitlines(), 1):
        fence = line.strip()
        if code is not None:
            if fence == "```":
                blocks.append((heading, start, "\n".join(code) + "\n"))
                code = None
            else:
                code.append(line)
        elif other:
            other = fence != "```"
        elif fence.startswith("```"):
            if fence == "```" + language:
                code, start = [], number + 1
            else:
                other = True
        elif line.startswith("#"):
            heading = line.lstrip("# ").strip()
    assert code is None, f"{source}: a ```{language} block opened at line {start} is never closed"
    return blocks


def python_blocks(text: str) -> list[tuple[str, int, str]]:
    """(section heading, first line number, code) of each ```python block, in order."""
    return fenced_blocks(text, "python")


def _collect(language: str) -> list[tuple[str, str, int, str]]:
    """(page, heading, line, code) of every ```<language> block over README.md and docs/*.md; a block shown on two
    pages with the same code is run once, where it first appears."""
    found, seen = [], set()
    for page in PAGES:
        name = page.relative_to(ROOT).as_posix()
        for block in fenced_blocks(page.read_text(encoding="utf-8"), language, name):
            if block[2] not in seen:
                seen.add(block[2])
                found.append((name, *block))
    return found


def _id(page: str, heading: str, line: int) -> str:
    return f"{page}:L{line}-{re.sub(r'[^a-z0-9]+', '-', heading.lower()).strip('-')}"


BLOCKS = _collect("python")
IDS = [_id(page, heading, line) for page, heading, line, _ in BLOCKS]
PARAMS = [pytest.param(b, marks=pytest.mark.slow) if "ray.init(" in b[3] else b for b in BLOCKS]
CHAIN_BLOCKS = [b for b in _collect("yaml") if isinstance(yaml.safe_load(b[3]), dict) and "stages" in yaml.safe_load(b[3])]


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


def test_the_guide_has_the_examples_this_test_is_meant_to_run():
    headings = [heading for _, heading, _, _ in BLOCKS]
    assert len(BLOCKS) >= 5, headings
    assert any(page == "README.md" for page, _, _, _ in BLOCKS), "the README shows no Python example"
    for section in ("Streaming and the pair cache", "Your own stage", "mmagic"):
        assert section in headings, f"no ```python block under '{section}': {headings}"
    assert len(CHAIN_BLOCKS) >= 3, [b[:3] for b in CHAIN_BLOCKS]


@pytest.mark.parametrize("block", CHAIN_BLOCKS, ids=[_id(*b[:3]) for b in CHAIN_BLOCKS])
def test_a_documented_chain_loads(block, tmp_path, monkeypatch):
    """A chain shown in YAML loads as shown; a path it names to a reference options file is read from the copy
    shipped in tests/data/options, put where the example expects it."""
    page, heading, line, code = block
    monkeypatch.chdir(tmp_path)
    config = yaml.safe_load(code)
    for stage in config["stages"]:
        if "options" in stage:
            target = tmp_path / stage["options"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / "tests" / "data" / "options" / Path(stage["options"]).name, target)
    chain = ds.load_chain(config)
    assert len(chain.stages) == len(config["stages"]), (page, line)


@pytest.mark.parametrize("block", PARAMS, ids=IDS)
def test_readme_python_block_runs(block, tmp_path, monkeypatch):
    page, heading, line, code = block
    monkeypatch.chdir(tmp_path)  # examples that write (a cache folder) write here
    registry.registered_names()  # built-in stages registered before the copy
    monkeypatch.setattr(registry, "_TRANSFORMS", dict(registry._TRANSFORMS))  # its @register leaves nothing behind
    namespace = user_namespace()
    exec(compile(code, f"{page}:{line}", "exec"), namespace)
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
