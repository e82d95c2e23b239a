"""`backoffice users list --role/--active-within/--inactive` and
`backoffice billing-events --sort ... --asc|--desc` with --json against a
real database (docs/rules.md R110, R113); the two activity options exclude
each other, a usage error like every bad option (R99)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from core.clock import utcnow
from tests import factories as f
from tests.cli_run import run_cli_captured
from tests.conftest import _libpq

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def seeded(pg_server_url: str, template_url: str) -> Iterator[str]:
    """One database for the module (the commands only read), its rows around
    the real clock: the commands read with utcnow()."""
    name = f"t_filters_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_url).database}"')
    url = make_url(template_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        acme = f.tenant(conn, name="Acme")
        bravo = f.tenant(conn, name="bravo")
        f.user(conn, acme.id, email="owner@acme.test", role="Owner", last_seen_at=now - HOUR)
        f.user(conn, acme.id, email="admin@acme.test", role="Admin", last_seen_at=now - 3 * DAY)
        f.user(conn, bravo.id, email="member@bravo.test", role="Member", last_seen_at=now - 20 * DAY)
        f.user(conn, bravo.id, email="never@bravo.test", role="Member", last_seen_at=None)
        f.user(conn, bravo.id, email="old@bravo.test", role="Admin", last_seen_at=now - 60 * DAY)
        f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=now - HOUR)
        f.billing_event(conn, bravo, "PaymentFailed", occurred_at=now - 2 * HOUR)
        f.billing_event(conn, acme, "SubscriptionCreated", occurred_at=now - 3 * HOUR)
        f.billing_event(conn, bravo, "SubscriptionUpgraded", occurred_at=now - 4 * HOUR)
    engine.dispose()
    yield url
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def cli(seeded: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> tuple[int, str, str]:
        return run_cli_captured(["--database-url", seeded, *args], monkeypatch, capsys)

    return run


def listed(cli: Any, *args: str, key: str = "email") -> list[str]:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["total"] == len(document["items"])
    return [item[key] for item in document["items"]]


def test_role_is_repeatable_and_comma_separated(cli: Any) -> None:
    assert listed(cli, "users", "list", "--role", "owner") == ["owner@acme.test"]
    admins_and_owners = ["owner@acme.test", "admin@acme.test", "old@bravo.test"]
    assert listed(cli, "users", "list", "--role", "Admin", "--role", "OWNER") == admins_and_owners
    assert listed(cli, "users", "list", "--role", "admin,owner") == admins_and_owners


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("24h", ["owner@acme.test"]),
        ("7d", ["owner@acme.test", "admin@acme.test"]),
        ("30d", ["owner@acme.test", "admin@acme.test", "member@bravo.test"]),
    ],
)
def test_active_within(cli: Any, window: str, expected: list[str]) -> None:
    assert listed(cli, "users", "list", "--active-within", window) == expected


def test_inactive_is_not_seen_in_30_days_or_never(cli: Any) -> None:
    assert listed(cli, "users", "list", "--inactive") == ["old@bravo.test", "never@bravo.test"]


def test_filters_combine_with_each_other_and_the_search(cli: Any) -> None:
    assert listed(cli, "users", "list", "--role", "member", "--inactive") == ["never@bravo.test"]
    assert listed(cli, "users", "list", "--search", "bravo", "--active-within", "30d") == ["member@bravo.test"]
    assert listed(cli, "users", "list", "--search", "acme", "--role", "admin", "--active-within", "24h") == []


def test_the_table_says_the_filtered_count(cli: Any) -> None:
    code, out, _ = cli("users", "list", "--role", "owner")
    assert code == 0 and "Owner" in out and "Admin" not in out and "Member" not in out
    assert "Page 1 of 1 (1 user)" in out


def test_activity_options_exclude_each_other(cli: Any) -> None:
    code, out, err = cli("users", "list", "--active-within", "7d", "--inactive", "--json")
    assert code == 2 and out == ""
    assert "--active-within and --inactive exclude each other" in err


@pytest.mark.parametrize(
    "args",
    [
        ["users", "list", "--role", "Guest"],
        ["users", "list", "--active-within", "12h"],
        ["users", "list", "--active-within", ""],
        ["billing-events", "--sort", "amount"],
        ["billing-events", "--asc", "--sort", ""],
    ],
)
def test_bad_values_are_usage_errors(cli: Any, args: list[str]) -> None:
    code, out, err = cli(*args, "--json")
    assert code == 2 and out == "" and "Usage" in err


def test_billing_events_sort_by_date_is_the_default(cli: Any) -> None:
    newest_first = ["SubscriptionRenewed", "PaymentFailed", "SubscriptionCreated", "SubscriptionUpgraded"]
    assert listed(cli, "billing-events", key="event_type") == newest_first
    assert listed(cli, "billing-events", "--sort", "date", "--desc", key="event_type") == newest_first
    assert listed(cli, "billing-events", "--sort", "date", "--asc", key="event_type") == newest_first[::-1]


def test_billing_events_sort_by_type_both_ways(cli: Any) -> None:
    by_type = ["PaymentFailed", "SubscriptionCreated", "SubscriptionRenewed", "SubscriptionUpgraded"]
    assert listed(cli, "billing-events", "--sort", "type", "--asc", key="event_type") == by_type
    assert listed(cli, "billing-events", "--sort", "TYPE", key="event_type") == by_type[::-1]


def test_billing_events_sort_by_account_name_both_ways(cli: Any) -> None:
    ascending = listed(cli, "billing-events", "--sort", "tenant-name", "--asc", key="tenant_name")
    assert ascending == ["Acme", "Acme", "bravo", "bravo"]
    code, out, _ = cli("billing-events", "--sort", "tenant-name", "--desc", "--json")
    items = json.loads(out)["items"]
    assert code == 0 and [(e["tenant_name"], e["event_type"]) for e in items] == [
        ("bravo", "PaymentFailed"),
        ("bravo", "SubscriptionUpgraded"),
        ("Acme", "SubscriptionRenewed"),
        ("Acme", "SubscriptionCreated"),
    ]
    code, out, _ = cli("billing-events", "--sort", "tenant-name")
    assert code == 0 and out.index("bravo") < out.index("Acme")
