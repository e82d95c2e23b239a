"""`backoffice accounts list|show`, `users list|show`, `billing-events` and
`invoices` against a real database: docs/rules.md R98, tables
without --json, exit 2 on bad options, exit 1 on what is not found
(docs/rules.md R96, R98, R99)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from console.cli import app, main
from core.clock import utcnow
from tests import factories as f
from tests.conftest import _libpq
from tests.databases import cloned_database

PAGED = {"items", "total", "page", "page_size"}


@pytest.fixture(scope="module")
def seeded(pg_server_url: str, template_url: str) -> Iterator[dict[str, Any]]:
    """One database for the module (the commands only read), with rows around
    the real clock: the commands read with utcnow()."""
    with cloned_database(pg_server_url, template_url) as url:
        engine = create_engine(url)
        now = utcnow()
        with engine.begin() as conn:
            acme = f.tenant(
                conn,
                name="Acme",
                plan="Standard",
                created_at=now - timedelta(days=40),
                payment_transactions=[
                    f.payment_transaction(date=now - timedelta(days=9), InvoiceUrl="https://stripe/in.pdf")
                ],
            )
            owner = f.user(
                conn,
                acme.id,
                email="owner@acme.com",
                role="Owner",
                first_name="Olga",
                last_name="Owner",
                last_seen_at=now,
            )
            f.user(conn, acme.id, email="member@acme.com", last_seen_at=now - timedelta(days=2))
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
            f.billing_event(conn, acme, "NoOp", occurred_at=now - timedelta(days=2))
            f.tenant(conn, name="Bravo", plan="Premium", cancel_at_period_end=True)
            f.tenant(conn, name="Cyrus")
        engine.dispose()
        yield {"url": url, "acme": str(acme.id), "owner": owner}


def run(seeded: dict[str, Any], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--database-url", seeded["url"], *args])
    return result.exit_code, result.output


def run_json(seeded: dict[str, Any], *args: str) -> Any:
    code, output = run(seeded, *args, "--json")
    assert code == 0, output
    return json.loads(output)


def test_accounts_list_json_is_paged_and_sorted_by_name(seeded: dict[str, Any]) -> None:
    document = run_json(seeded, "accounts", "list")
    assert set(document) == PAGED
    assert (document["total"], document["page"], document["page_size"]) == (3, 1, 25)
    assert [row["name"] for row in document["items"]] == ["Acme", "Bravo", "Cyrus"]
    acme = document["items"][0]
    assert acme["id"] == seeded["acme"] and isinstance(acme["id"], str)
    assert (acme["plan"], acme["status"], acme["monthly_recurring_revenue"], acme["currency"]) == (
        "Standard",
        "Active",
        149.0,
        "DKK",
    )
    assert acme["owner"]["email"] == "owner@acme.com"


def test_accounts_list_options(seeded: dict[str, Any]) -> None:
    assert [r["name"] for r in run_json(seeded, "accounts", "list", "--plan", "premium,STANDARD")["items"]] == [
        "Acme",
        "Bravo",
    ]
    canceling = run_json(seeded, "accounts", "list", "--status", "canceling", "--status", "free")
    assert [r["status"] for r in canceling["items"]] == ["Canceling", "Free"]
    by_mrr = run_json(seeded, "accounts", "list", "--sort", "MRR", "--desc")
    assert by_mrr["items"][0]["name"] == "Bravo"
    assert run_json(seeded, "accounts", "list", "--sort", "monthly-recurring-revenue")["total"] == 3
    assert run_json(seeded, "accounts", "list", "--search", "acm")["total"] == 1
    past_end = run_json(seeded, "accounts", "list", "--page", "9", "--page-size", "2")
    assert (past_end["items"], past_end["total"], past_end["page"], past_end["page_size"]) == ([], 3, 9, 2)


@pytest.mark.parametrize(
    "args",
    [
        ["accounts", "list", "--status", "Sleeping"],
        ["accounts", "list", "--plan", "Gold"],
        ["accounts", "list", "--sort", "size"],
        ["accounts", "list", "--page-size", "0"],
        ["accounts", "list", "--page-size", "101"],
        ["accounts", "list", "--page", "0"],
        ["users", "list", "--page-size", "0"],
        ["billing-events", "--period", "14"],
        ["billing-events", "--type", "SubscriptionSleeping"],
        ["billing-events", "--preset", "everything"],
        ["invoices", "--status", "Lost"],
        ["invoices", "--sort", "weight"],
    ],
)
def test_bad_options_are_usage_errors(seeded: dict[str, Any], args: list[str]) -> None:
    code, output = run(seeded, *args)
    assert code == 2, output


def test_accounts_list_table(seeded: dict[str, Any]) -> None:
    code, output = run(seeded, "accounts", "list")
    assert code == 0 and "Acme" in output and "Page 1 of 1 (3 accounts)" in output


def test_accounts_show_json(seeded: dict[str, Any]) -> None:
    document = run_json(seeded, "accounts", "show", seeded["acme"])
    assert (document["id"], document["name"], document["plan"], document["status"]) == (
        seeded["acme"],
        "Acme",
        "Standard",
        "Active",
    )
    assert document["lifetime_value"] == 149.0 and document["has_ever_subscribed"] is True
    assert document["user_counts"]["total_users"] == 2
    for name in ("owners", "users", "payment_history", "billing_events"):
        assert set(document[name]) == PAGED, name
    assert [u["email"] for u in document["owners"]["items"]] == ["owner@acme.com"]
    assert document["payment_history"]["items"][0]["invoice_url"] == "https://stripe/in.pdf"
    assert [e["event_type"] for e in document["billing_events"]["items"]] == ["SubscriptionCreated"]


def test_accounts_show_table(seeded: dict[str, Any]) -> None:
    code, output = run(seeded, "accounts", "show", seeded["acme"])
    assert code == 0 and "Lifetime value" in output and "owner@acme.com" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["accounts", "show", "123"], "error: tenant 123 not found"),
        (["users", "show", "usr_nobody"], "error: user usr_nobody not found"),
    ],
)
def test_what_is_not_found_exits_1_with_one_line(
    seeded: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setattr(sys, "argv", ["backoffice", "--database-url", seeded["url"], *args])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    assert capsys.readouterr().err.strip() == message


def test_users_list_json(seeded: dict[str, Any]) -> None:
    document = run_json(seeded, "users", "list")
    assert set(document) == PAGED and document["total"] == 2
    first = document["items"][0]
    assert (first["email"], first["display_name"], first["tenant_name"], first["role"], first["status"]) == (
        "owner@acme.com",
        "Olga Owner",
        "Acme",
        "Owner",
        "Active",
    )
    assert first["tenant_id"] == seeded["acme"]
    assert run_json(seeded, "users", "list", "--search", "membe")["total"] == 1
    assert run_json(seeded, "users", "list", "--search", "m")["total"] == 2


def test_users_show_json_and_table(seeded: dict[str, Any]) -> None:
    document = run_json(seeded, "users", "show", seeded["owner"])
    assert (document["id"], document["email"], document["tenant_name"]) == (seeded["owner"], "owner@acme.com", "Acme")
    assert [m["tenant_name"] for m in document["memberships"]] == ["Acme"]
    assert document["tiles"] == {"memberships": 1, "active_sessions": 1, "logins_last_30_days": 1}
    assert set(document["sessions"]) == PAGED and document["sessions"]["total"] == 1
    assert set(document["login_history"]) == PAGED
    assert document["login_history"]["items"][0]["outcome"] == "Succeeded"
    code, output = run(seeded, "users", "show", seeded["owner"])
    assert code == 0 and "Memberships" in output and "Sessions (1)" in output


def test_billing_events_json(seeded: dict[str, Any]) -> None:
    document = run_json(seeded, "billing-events")
    assert set(document) == PAGED | {"period"} and document["period"] == 30
    assert [e["event_type"] for e in document["items"]] == ["SubscriptionCreated"]
    assert document["items"][0]["tenant_id"] == seeded["acme"]
    noop = run_json(seeded, "billing-events", "--type", "noop", "--period", "7")
    assert ([e["event_type"] for e in noop["items"]], noop["period"]) == (["NoOp"], 7)
    assert run_json(seeded, "billing-events", "--preset", "MRR-impact")["total"] == 1
    assert run_json(seeded, "billing-events", "--search", "bravo")["total"] == 0
    code, output = run(seeded, "billing-events")
    assert code == 0 and "Acme" in output and "Page 1 of 1 (1 billing event)" in output


def test_invoices_json(seeded: dict[str, Any]) -> None:
    document = run_json(seeded, "invoices")
    assert set(document) == PAGED and document["total"] == 1
    row = document["items"][0]
    assert (row["row_kind"], row["status"], row["tenant_name"], row["amount"]) == (
        "Invoice",
        "Succeeded",
        "Acme",
        186.25,
    )
    assert run_json(seeded, "invoices", "--status", "hascreditnote")["total"] == 0
    assert run_json(seeded, "invoices", "--search", "acme", "--sort", "total", "--asc")["total"] == 1
    code, output = run(seeded, "invoices")
    assert code == 0 and "Acme" in output
