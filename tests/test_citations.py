"""Comments cite documents of this repository only, and rule numbers that
docs/rules.md defines: a reader follows every citation in one hop."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("console", "core", "stripe_sync", "db", "demo", "bench", "tests")
DOCUMENT = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")
RULES = re.compile(r"docs/rules\.md((?:[ ,]+(?:and +)?R\d+(?:-R\d+)?)+)")
DEFINED = re.compile(r"^\*\*R(\d+) ·", re.MULTILINE)


def _sources() -> list[Path]:
    files = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    return [*(path for path in files if path.name != "test_citations.py"), ROOT / "backoffice.tcss"]


def test_every_cited_document_exists() -> None:
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _sources()
        for name in DOCUMENT.findall(path.read_text(encoding="utf-8"))
        if not (ROOT / name).exists()
    }
    assert not missing, sorted(missing)


def test_every_cited_rule_is_defined() -> None:
    defined = {int(number) for number in DEFINED.findall((ROOT / "docs" / "rules.md").read_text(encoding="utf-8"))}
    undefined = set()
    for path in _sources():
        for cited in RULES.findall(path.read_text(encoding="utf-8")):
            for first, last in re.findall(r"R(\d+)(?:-R(\d+))?", cited):
                for number in range(int(first), int(last or first) + 1):
                    if number not in defined:
                        undefined.add(f"{path.relative_to(ROOT)}: R{number}")
    assert len(defined) > 100
    assert not undefined, sorted(undefined)
