"""Every relative link in README.md and docs/*.md names a file of the repository and, with ``#anchor``, one of
that file's headings (GitHub's anchor rule: lower case, punctuation dropped, spaces to hyphens)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor of a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a markdown file's headings (outside code fences)."""
    found, fence = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and re.match(r"#{1,6} ", line):
            found.add(anchor(line.lstrip("#")))
    return found


def links(page: Path) -> list[str]:
    """The relative link targets of a markdown file, code fences left out."""
    body = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return [t for t in LINK.findall(body) if not re.match(r"[a-z]+:", t)]


def test_the_guide_has_its_pages() -> None:
    assert len(PAGES) >= 9, [p.name for p in PAGES]
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 300


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in links(page):
        path, _, frag = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
        elif frag and file.suffix == ".md" and frag not in anchors(file):
            broken.append(f"{target}: no heading with anchor #{frag} in {file.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)
