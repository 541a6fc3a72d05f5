"""Every ```python block of README.md and of the guide's pages (docs/*.md) runs as written, and every ```yaml block
that holds a chain (``stages:``) loads into one. The test provides only what stands for the user's own code:
``loader`` (their DataLoader, small tensors), ``train_step``, ``epochs``, the ``hq``/``keys`` of the pair-cache
example and ``hq_folder`` (their image folder: tests/data/hq); nothing of degrade_stream is mocked. A block that
starts Ray (``ray.init``) is marked slow (a local Ray instance takes tens of seconds to start). A documented
example that does not run fails here."""
from __future__ import annotations

import re
import shlex
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


def _readme_block(language: str, marker: str) -> str:
    """The README's ```<language> block that contains ``marker`` (the plain ``` fence when language is '')."""
    found = [code for _, _, code in fenced_blocks((ROOT / "README.md").read_text(encoding="utf-8"), language)
             if marker in code]
    assert len(found) == 1, f"README: expected one ```{language} block with {marker!r}, found {len(found)}"
    return found[0]


@pytest.mark.slow  # runs the bundled DDPM on CPU
def test_the_readme_synthesize_line_writes_pairs_of_the_readme_chain(tmp_path, monkeypatch):
    """The command line of "YAML chains and the command line", as shown, with the chain YAML shown above it saved as
    my_chain.yaml and two HQ images in my_hq/."""
    from reliability_helpers import run_in_process

    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_chain.yaml").write_text(_readme_block("yaml", "ddpm_refine"), encoding="utf-8")
    (tmp_path / "my_hq").mkdir()
    for name in ("swinir_set5__bird.png", "swinir_set5__head.png"):
        shutil.copy(ROOT / "tests" / "data" / "hq" / name, tmp_path / "my_hq" / name)
    line = _readme_block("", "degrade-stream synthesize").split("#")[0]
    argv = shlex.split(line)
    assert argv[0] == "degrade-stream"
    result = run_in_process(*argv[1:], "--no-progress")
    assert result.returncode == 0, result.stderr
    for side in ("gt", "lq"):
        assert sorted(p.stem for p in (tmp_path / "pairs" / side).iterdir()) == ["swinir_set5__bird",
                                                                                 "swinir_set5__head"]
