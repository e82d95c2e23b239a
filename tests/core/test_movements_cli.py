"""`backoffice report mrr-movements` (docs/rules.md R150, R98, R79): one JSON
document with money as numbers, a table otherwise, the periods of the other
reports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from core.clock import utcnow
from tests import factories as f
from tests.cli_run import run_cli_captured


def _seed(engine: Engine) -> None:
    """Around the real clock (the command reads with utcnow()): one new
    account, one contraction and one churn in the last 7 days."""
    now = utcnow()
    with engine.begin() as conn:
        new = f.tenant(conn, name="New", plan="Standard")
        f.billing_event(
            conn, new, "SubscriptionCreated", occurred_at=now - timedelta(days=3), previous_amount="0", new_amount="149"
        )
        shrinking = f.tenant(conn, name="Shrinking", plan="Standard")
        f.billing_event(
            conn,
            shrinking,
            "SubscriptionCreated",
            occurred_at=now - timedelta(days=60),
            previous_amount="0",
            new_amount="299",
        )
        f.billing_event(
            conn,
            shrinking,
            "SubscriptionDowngraded",
            occurred_at=now - timedelta(days=2),
            previous_amount="299",
            new_amount="149",
        )
        leaving = f.tenant(conn, name="Leaving", plan="Standard")
        f.billing_event(
            conn,
            leaving,
            "SubscriptionCreated",
            occurred_at=now - timedelta(days=40),
            previous_amount="0",
            new_amount="149",
        )
        f.billing_event(
            conn,
            leaving,
            "SubscriptionCancelled",
            occurred_at=now - timedelta(days=1),
            previous_amount="149",
            new_amount="0",
        )


def test_mrr_movements_json_reconciles_with_money_as_numbers(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(engine)

    code, out, err = run_cli_captured(
        ["--database-url", database_url, "report", "mrr-movements", "--period", "7", "--json"], monkeypatch, capsys
    )

    assert code == 0, err
    document = json.loads(out)
    today = utcnow().date()
    assert document == {
        "period": 7,
        "currency": "DKK",
        "first_day": (today - timedelta(days=6)).isoformat(),
        "last_day": today.isoformat(),
        "start_monthly_recurring_revenue": 448.0,
        "new_mrr": 149.0,
        "expansion_mrr": 0.0,
        "reactivation_mrr": 0.0,
        "contraction_mrr": 150.0,
        "churned_mrr": 149.0,
        "end_monthly_recurring_revenue": 298.0,
    }


def test_mrr_movements_table_signs_gains_and_losses(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(engine)

    code, out, err = run_cli_captured(
        ["--database-url", database_url, "report", "mrr-movements", "--period", "7"], monkeypatch, capsys
    )

    assert code == 0, err
    assert "MRR movements, last 7 days" in out
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in out.splitlines() if line.count("│") == 3}
    assert rows["New"] == "+DKK 149.00"
    assert rows["Contraction"] == "-DKK 150.00"
    assert rows["Churn"] == "-DKK 149.00"
    assert rows["Expansion"] == rows["Reactivation"] == "DKK 0.00"
    assert [value for label, value in rows.items() if label.startswith("MRR at the")] == ["DKK 448.00", "DKK 298.00"]


def test_mrr_movements_takes_the_report_periods_only(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli_captured(
        ["--database-url", database_url, "report", "mrr-movements", "--period", "90", "--json"], monkeypatch, capsys
    )
    assert code == 0 and json.loads(out)["period"] == 90

    code, _, err = run_cli_captured(
        ["--database-url", database_url, "report", "mrr-movements", "--period", "14"], monkeypatch, capsys
    )
    assert code == 2
    assert "period must be 7, 30 or 90" in err
