"""What every part of the benchmark shares when it reports: the results file
and the verdict cell of its table."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

RESULTS = Path(__file__).parent / "results.json"


def verdict(ok: bool | None) -> str:
    """A table cell: ok, MISSED, or empty for a figure with no budget."""
    return "" if ok is None else ("[green]ok[/]" if ok else "[red]MISSED[/]")


def store_part(name: str, figures: dict[str, Any]) -> None:
    """Run alone, a part updates only its own entry of the results file."""
    document = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    document[name] = figures
    RESULTS.write_text(json.dumps(document, indent=2, default=str))


def run_alone(
    name: str, measure: Callable[..., dict[str, Any]], print_table: Callable[[Console, dict[str, Any]], None]
) -> None:
    """A part run by itself (`python -m bench.<part>`): measure, show, store."""
    console = Console(width=max(120, Console().width))
    figures = measure(log=console.print)
    print_table(console, figures)
    store_part(name, figures)
    console.print(f"Wrote {RESULTS}")
