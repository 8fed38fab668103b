"""The README and docs/ link to each other by relative path and heading anchor: every such link
must reach an existing file and, when it names one, an existing heading (GitHub's anchor rules),
so moving a section or a page cannot leave a dead link behind."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def outside_code(text: str) -> list[str]:
    """The page's lines outside fenced code blocks (a ``#`` there is no heading, a link no link)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchors(page: Path) -> set[str]:
    """Every heading anchor of ``page`` (a repeated heading's later anchors get ``-1``, ``-2``, ...)."""
    seen: dict[str, int] = {}
    for line in outside_code(page.read_text(encoding="utf-8")):
        if line.startswith("#"):
            a = anchor(line.lstrip("#"))
            seen[a] = seen.get(a, -1) + 1
            if seen[a]:
                seen[f"{a}-{seen[a]}"] = 0
    return set(seen)


def local_links(page: Path) -> list[str]:
    """The page's links to files of the repository or its own headings (not web addresses)."""
    found = [m.group(1) for line in outside_code(page.read_text(encoding="utf-8")) for m in LINK.finditer(line)]
    return [t for t in found if not t.startswith(("http://", "https://", "mailto:"))]


def test_the_anchor_rule_matches_githubs() -> None:
    assert anchor(" Extraction + language ID, page by page") == "extraction--language-id-page-by-page"
    assert anchor("The latest run (2026-12-05)") == "the-latest-run-2026-12-05"
    assert anchor("Memory counted once (PSS)") == "memory-counted-once-pss"


def test_a_dead_link_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n```\n# not a heading\n```\n\nSee [it](#title) and [gone](#not-a-heading).\n")
    assert anchors(page) == {"title"}
    assert local_links(page) == ["#title", "#not-a-heading"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_reaches_its_file_and_heading(page: Path) -> None:
    dead = []
    for target in local_links(page):
        path, _, name = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            dead.append(f"{target} (no such file)")
        elif name and file.suffix == ".md" and name not in anchors(file):
            dead.append(f"{target} (no such heading in {file.name})")
    assert not dead, f"{page.relative_to(ROOT)}: dead links: {dead}"
