"""The project stands alone: what the code and the tests cite is in the repository (docs/design.md,
docs/conventions.md, ARCHITECTURE.md), and docs/design.md's rule catalog is the catalog golive loads."""

from __future__ import annotations

import re

from checker.packs import load_catalog
from tests.conftest import ROOT

CITED = ("docs/design.md", "docs/conventions.md", "ARCHITECTURE.md")
OUTSIDE = re.compile(r"\bDESIGN(\.md)?\s*(section|§)|\bSTYLE\.md\b|DESIGN's|\.\./shared/|\"shared\" / ")


def test_every_cited_document_is_in_the_repository():
    for name in CITED:
        assert (ROOT / name).is_file(), f"{name} is cited but not in the repository"


def test_nothing_cites_a_document_outside_the_repository():
    """Comments and tests cited "DESIGN section 3", "STYLE.md" and read ../shared/seeds: a user's clone has none."""
    files = [p for folder in ("checker", "tests", "bench", "action") for p in (ROOT / folder).rglob("*.py")]
    files += [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *(ROOT / "docs").glob("*.md")]
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in files
        if path.name != "test_project_docs.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_design_catalog_is_the_loaded_catalog():
    """docs/design.md §5 lists every rule with its target and default severity, as rules/catalog.yaml states them."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = text[text.index("## 5. Rule catalog") : text.index("## 6. ")]
    rows = re.findall(r"^\| ([A-Z]+-\d{3}) \| [^|]+ \| (\w+) \| (\w+) \|", section, re.MULTILINE)
    loaded = [(r.id, r.target, r.severity.value) for r in load_catalog()[0].rules]
    assert rows == loaded
