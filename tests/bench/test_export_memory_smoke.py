"""A small run of the export-memory benchmark (bench/export_memory.py) on the
test database: each export runs in a process of its own, streams every row to
/dev/null and is judged on its peak RSS growth (docs/rules.md R141)."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console
from sqlalchemy import Engine, text

from bench import export_memory
from bench.dataset import DATASET_NOW
from demo import seed as demo_seed


def test_a_small_export_is_measured_and_judged(engine: Engine) -> None:
    demo_seed.seed(engine, tenants=6, seed=3, now=DATASET_NOW - timedelta(days=1))
    with engine.connect() as conn:
        tenants = conn.execute(text("SELECT count(*) FROM tenants WHERE deleted_at IS NULL")).scalar_one()
    lines: list[str] = []
    figures = export_memory.measure(engine.url.render_as_string(hide_password=False), log=lines.append)
    accounts, invoices = figures["exports"]
    assert accounts["command"] == "backoffice accounts list --all --csv"
    assert accounts["exit_code"] == 0 and accounts["rows"] == tenants
    assert invoices["command"].startswith("backoffice invoices --all --csv --status") and invoices["exit_code"] == 0
    for row in (accounts, invoices):
        assert row["peak_mb"] >= row["baseline_mb"] > 10  # a Python process with the CLI loaded
        assert row["within_budget"] == (row["growth_mb"] < export_memory.GROWTH_BUDGET_MB)
    assert len(lines) == 2
    console = Console(width=160, record=True)
    export_memory.print_table(console, figures)
    assert "accounts list --all --csv" in console.export_text()
