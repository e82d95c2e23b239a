"""The console runs no SQL of its own: every figure comes from core."""

from __future__ import annotations

import re
from pathlib import Path

CONSOLE = Path(__file__).resolve().parents[2] / "console"
SQL = re.compile(r"\.execute\(|sqlalchemy import[^\n]*\b(text|select|insert|update|delete)\b|\bSELECT\b")


def test_console_screens_and_widgets_issue_no_sql() -> None:
    files = [path for path in CONSOLE.rglob("*.py") if "cli" not in path.relative_to(CONSOLE).parts]
    assert len(files) > 10
    offenders = [str(path.relative_to(CONSOLE)) for path in files if SQL.search(path.read_text())]
    assert offenders == []
