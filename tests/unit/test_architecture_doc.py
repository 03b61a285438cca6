"""docs/architecture.md: the sections the code cites exist, and no code cites notes outside the repo.

Docstrings cite the project's design document as "docs/architecture.md §4" or "§3.2"; a citation
of a section that does not exist (after a renumbering) fails here. A user's clone has no
``../shared`` design notes, so citing them ("CONTRACTS §1", "ARCHITECTURE §5") is refused too.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "architecture.md"
CODE_TREES = ("layers", "functions", "emulator", "local", "bench", "tests")
SECTIONS = [
    "1. The jobs",
    "2. Layout and the dependency rule",
    "3. Interfaces",
    "3.1 The entry (JSON)",
    "3.2 MyUnisoft's rules",
    "3.3 The TRA written",
    "3.4 The HTTP API",
    "3.5 The MyUnisoft emulator",
    "4. Entry lifecycle",
    "5. State (DynamoDB, S3)",
    "6. Errors",
    "7. Local runtime",
    "8. Scale and the rate budget",
    "9. Events and notifications",
]
_CITATION = re.compile(r"docs/architecture\.md\s+§(\d+(?:\.\d+)?)")
_OUTSIDE = re.compile(r"\b(?:CONTRACTS|ARCHITECTURE)(?:\.md)? §\d")


def _headings() -> list[str]:
    return [m.group(1) for m in re.finditer(r"^#{2,3} (.+)$", DOC.read_text(encoding="utf-8"), re.M)]


def _python_files() -> list[Path]:
    return [p for tree in CODE_TREES for p in (REPO / tree).rglob("*.py") if ".venv" not in p.parts]


def test_the_document_has_exactly_its_numbered_sections_in_order() -> None:
    assert _headings() == SECTIONS


def test_every_cited_section_exists() -> None:
    numbers = {heading.split(" ", 1)[0].rstrip(".") for heading in _headings()}
    missing = sorted(
        f"{path.relative_to(REPO)}: §{number}"
        for path in _python_files()
        for number in _CITATION.findall(path.read_text(encoding="utf-8"))
        if number not in numbers
    )
    assert missing == []


def test_no_code_cites_design_notes_outside_the_repository() -> None:
    this_file = Path(__file__).resolve()
    citing = sorted(
        path.relative_to(REPO).as_posix()
        for path in _python_files()
        if path.resolve() != this_file
        and _OUTSIDE.search(path.read_text(encoding="utf-8"))
    )
    assert citing == []
