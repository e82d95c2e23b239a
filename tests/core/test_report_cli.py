"""`backoffice report ...` and `backoffice banners` against a real database:
one JSON document of docs/rules.md R98 with --json, tables otherwise,
exit 2 on bad options (docs/rules.md R79, R84, R98, R99)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from console.cli import app
from core.clock import utcnow
from tests import factories as f
from tests.conftest import _libpq
from tests.databases import cloned_database

PERIOD_REPORTS = ["kpis", "mrr-trend", "revenue-trend", "trends"]
RECENT_REPORTS = ["recent-signups", "recent-stripe-events", "recent-payments", "recent-logins"]


@pytest.fixture(scope="module")
def seeded_url(pg_server_url: str, template_url: str) -> Iterator[str]:
    """One database for the module (the commands only read), with a few rows
    around the real clock: the CLI reads with utcnow()."""
    with cloned_database(pg_server_url, template_url) as url:
        engine = create_engine(url)
        now = utcnow()
        with engine.begin() as conn:
            acme = f.tenant(
                conn,
                name="Acme",
                plan="Standard",
                created_at=now - timedelta(days=3),
                subscribed_since=now - timedelta(days=3),
                payment_transactions=[f.payment_transaction(date=now - timedelta(days=2))],
            )
            owner = f.user(
                conn,
                acme.id,
                email="owner@acme.com",
                role="Owner",
                created_at=now - timedelta(days=3),
                last_seen_at=now,
            )
            f.session(conn, acme.id, owner, created_at=now - timedelta(hours=1))
            f.email_login(conn, "owner@acme.com", created_at=now - timedelta(hours=1))
            f.billing_event(
                conn,
                acme,
                "SubscriptionCreated",
                occurred_at=now - timedelta(days=3),
                to_plan="Standard",
                previous_amount="0",
                new_amount="149",
            )
            f.tenant(conn, name="Waiting", plan="Premium", has_drift_detected=True)
        engine.dispose()
        yield url


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--database-url", url, *args])
    return result.exit_code, result.output


def test_kpis_json_has_the_contract_keys(seeded_url: str) -> None:
    code, output = run(seeded_url, "report", "kpis", "--json")

    assert code == 0, output
    document = json.loads(output)
    assert document["period"] == 30
    assert document["total_tenants"] == 2
    assert document["new_tenants_in_period"] == 1
    assert document["blended_monthly_recurring_revenue"] == 448.0
    assert document["total_revenue"] == 149.0
    assert document["currency"] == "DKK"
    assert document["sessions_started_last_24_hours"] == 1
    assert {
        "blended_monthly_recurring_revenue_delta_percent",
        "new_tenants_delta_percent",
        "active_users_in_period",
    } <= document.keys()


def test_mrr_trend_json_has_points_and_prior_points(seeded_url: str) -> None:
    code, output = run(seeded_url, "report", "mrr-trend", "--period", "7", "--json")

    assert code == 0, output
    document = json.loads(output)
    assert (document["period"], document["currency"]) == (7, "DKK")
    assert len(document["points"]) == len(document["prior_points"]) == 7
    assert document["points"][-1]["monthly_recurring_revenue"] == 149.0
    assert set(document["points"][0]) == {"date", "monthly_recurring_revenue"}


def test_revenue_trend_and_trends_json(seeded_url: str) -> None:
    code, output = run(seeded_url, "report", "revenue-trend", "--json")
    assert code == 0, output
    assert json.loads(output)["points"][-1]["revenue"] == 149.0

    code, output = run(seeded_url, "report", "trends", "--period", "90", "--json")
    assert code == 0, output
    document = json.loads(output)
    assert set(document) == {"new_tenants", "new_users", "login_activity"}
    assert len(document["login_activity"]["points"]) == 90
    assert set(document["login_activity"]["points"][0]) == {"date", "value", "failed", "distinct_users"}
    assert sum(point["value"] for point in document["login_activity"]["points"]) == 1


def test_plan_distribution_json(seeded_url: str) -> None:
    code, output = run(seeded_url, "report", "plan-distribution", "--json")

    assert code == 0, output
    document = json.loads(output)
    assert [entry["plan"] for entry in document["distribution"]] == ["Basis", "Standard", "Premium"]
    assert [entry["percentage"] for entry in document["distribution"]] == [0.0, 50.0, 50.0]
    assert document["paid_tenants"] == 2


@pytest.mark.parametrize("report", RECENT_REPORTS)
def test_recent_reports_are_item_lists_with_string_ids(seeded_url: str, report: str) -> None:
    code, output = run(seeded_url, "report", report, "--json", "--limit", "50")

    assert code == 0, output
    document = json.loads(output)
    assert list(document) == ["items"]
    assert len(document["items"]) >= 1
    assert isinstance(document["items"][0]["tenant_id"], str)


def test_recent_stripe_events_carry_mrr_after(seeded_url: str) -> None:
    code, output = run(seeded_url, "report", "recent-stripe-events", "--json")

    assert code == 0, output
    item = json.loads(output)["items"][0]
    assert (item["type"], item["committed_mrr"], item["tenant_name"]) == ("SubscriptionCreated", 149.0, "Acme")


def test_banners_json(seeded_url: str) -> None:
    code, output = run(seeded_url, "banners", "--json")

    assert code == 0, output
    document = json.loads(output)
    assert set(document) == {"drift", "unsynced", "mrr_consistency"}
    assert document["drift"]["subscriptions_with_drift_count"] == 1
    assert document["unsynced"]["unsynced_subscriptions_count"] == 1
    assert document["unsynced"]["accounts"][0]["name"] == "Waiting"
    mrr = document["mrr_consistency"]
    assert (mrr["kpi_monthly_recurring_revenue"], mrr["trend_latest_monthly_recurring_revenue"], mrr["consistent"]) == (
        448.0,
        149.0,
        False,
    )


@pytest.mark.parametrize("report", PERIOD_REPORTS)
def test_an_unknown_period_is_a_usage_error(seeded_url: str, report: str) -> None:
    code, output = run(seeded_url, "report", report, "--period", "14")

    assert code == 2
    assert "period must be 7, 30 or 90" in output


@pytest.mark.parametrize("limit", ["0", "51"])
def test_a_limit_out_of_range_is_a_usage_error(seeded_url: str, limit: str) -> None:
    code, output = run(seeded_url, "report", "recent-signups", "--limit", limit)

    assert code == 2
    assert "limit must be between 1 and 50" in output


def test_tables_show_money_in_the_chosen_locale(seeded_url: str) -> None:
    code, output = run(seeded_url, "--locale", "da-DK", "report", "kpis")
    assert code == 0, output
    assert "448,00" in output and "Blended MRR" in output

    code, output = run(seeded_url, "report", "recent-signups")
    assert code == 0, output
    assert "Acme" in output and "owner@acme.com" in output

    code, output = run(seeded_url, "banners")
    assert code == 0, output
    assert "Billing drift" in output and "Waiting" in output


def test_every_table_report_runs(seeded_url: str) -> None:
    for report in [*PERIOD_REPORTS, "plan-distribution", *RECENT_REPORTS]:
        code, output = run(seeded_url, "report", report)
        assert code == 0, (report, output)
        assert output.strip()
