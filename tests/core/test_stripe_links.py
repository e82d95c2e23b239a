"""Stripe dashboard links (docs/rules.md R120) and finding an account by its
Stripe customer or subscription id (docs/rules.md R123)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Connection, Engine, text, update

from core.account_detail import account_detail, account_summary
from core.stripe_links import (
    StripeMode,
    customer_url,
    dashboard_url,
    invoice_url,
    stripe_mode,
    subscription_url,
)
from core.stripe_lookup import account_by_stripe_id, is_stripe_account_id
from db.models import Tenant
from tests import factories as f
from tests.cli_run import run_cli_captured

NOW = f.NOW


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        ("sk_test_abc", StripeMode.test),
        ("rk_test_abc", StripeMode.test),
        ("sk_live_abc", StripeMode.live),
        ("rk_live_abc", StripeMode.live),
        ("pk_test_abc", StripeMode.live),  # not a secret key: not ours to read as test
        (None, None),
        ("", None),
    ],
)
def test_the_mode_is_the_keys(key: str | None, mode: StripeMode | None) -> None:
    assert stripe_mode(key) is mode


def test_each_kind_has_its_dashboard_page_with_test_after_the_host() -> None:
    assert customer_url("cus_Q1", "sk_test_x") == "https://dashboard.stripe.com/test/customers/cus_Q1"
    assert subscription_url("sub_Q1", "rk_test_x") == "https://dashboard.stripe.com/test/subscriptions/sub_Q1"
    assert invoice_url("in_Q1", "sk_test_x") == "https://dashboard.stripe.com/test/invoices/in_Q1"
    assert customer_url("cus_Q1", "sk_live_x") == "https://dashboard.stripe.com/customers/cus_Q1"
    assert dashboard_url("sub_Q1", "rk_live_x") == "https://dashboard.stripe.com/subscriptions/sub_Q1"


def test_without_a_key_the_link_is_live() -> None:
    assert customer_url("cus_Q1", None) == "https://dashboard.stripe.com/customers/cus_Q1"
    assert invoice_url("in_Q1", "") == "https://dashboard.stripe.com/invoices/in_Q1"


@pytest.mark.parametrize(
    "stripe_id",
    [None, "", "cus_", "sub_", "in_", "pymnt_123", "evt_1", "cus_1/../../x", "cus_1\x1b]8;;x", "cus_ 1", "cus_ø"],
)
def test_no_link_for_no_id_another_kind_or_an_unsafe_id(stripe_id: str | None) -> None:
    assert dashboard_url(stripe_id, "sk_test_x") is None


def test_each_helper_takes_only_its_own_kind() -> None:
    assert customer_url("sub_1", None) is None
    assert subscription_url("cus_1", None) is None
    assert invoice_url("sub_1", None) is None


def test_the_account_carries_its_ids_links_and_mode(conn: Connection) -> None:
    ref = f.tenant(conn, name="Nordlys ApS", plan="Standard")
    detail = account_detail(conn, ref.id, NOW, stripe_api_key="rk_test_abc")
    assert detail.stripe_customer_id == f"cus_{ref.id}"
    assert detail.stripe_subscription_id == f"sub_stripe_{ref.id}"
    assert detail.stripe_customer_url == f"https://dashboard.stripe.com/test/customers/cus_{ref.id}"
    assert detail.stripe_subscription_url == f"https://dashboard.stripe.com/test/subscriptions/sub_stripe_{ref.id}"
    assert detail.stripe_mode is StripeMode.test
    live = account_detail(conn, ref.id, NOW)
    assert live.stripe_mode is None
    assert live.stripe_subscription_url == f"https://dashboard.stripe.com/subscriptions/sub_stripe_{ref.id}"
    summary = account_summary(conn, ref.id, NOW)
    assert (summary.stripe_customer_id, summary.stripe_subscription_id) == (f"cus_{ref.id}", f"sub_stripe_{ref.id}")


def test_a_free_account_has_no_stripe_links(conn: Connection) -> None:
    ref = f.tenant(conn, name="Havblik", plan="Basis")
    detail = account_detail(conn, ref.id, NOW, stripe_api_key="sk_live_x")
    assert (detail.stripe_customer_id, detail.stripe_customer_url, detail.stripe_subscription_url) == (None, None, None)


def test_an_account_is_found_by_its_customer_or_subscription_id_exactly(conn: Connection) -> None:
    ref = f.tenant(conn, name="Nordlys ApS", plan="Standard")
    f.tenant(conn, name="Fjordhus", plan="Premium")
    by_customer = account_by_stripe_id(conn, f"cus_{ref.id}")
    by_subscription = account_by_stripe_id(conn, f"  sub_stripe_{ref.id} ")
    assert by_customer is not None and by_customer.id == str(ref.id)
    assert by_subscription is not None and by_subscription.id == str(ref.id)
    assert account_by_stripe_id(conn, f"cus_{ref.id}"[:-1]) is None  # exact, not a prefix
    assert account_by_stripe_id(conn, f"CUS_{ref.id}") is None  # Stripe ids are case-sensitive
    assert account_by_stripe_id(conn, "in_1") is None


def test_a_soft_deleted_account_is_not_found(conn: Connection) -> None:
    ref = f.tenant(conn, name="Gone", plan="Standard", created_at=NOW - timedelta(days=9))
    conn.execute(update(Tenant).where(Tenant.id == ref.id).values(deleted_at=NOW))
    assert account_by_stripe_id(conn, f"cus_{ref.id}") is None


def test_stripe_account_ids_are_recognised() -> None:
    assert is_stripe_account_id("cus_1") and is_stripe_account_id(" sub_x ")
    assert not is_stripe_account_id("cus_") and not is_stripe_account_id("Nordlys") and not is_stripe_account_id("in_1")


@pytest.mark.parametrize(
    ("column", "stripe_id", "index"),
    [
        ("stripe_customer_id", "cus_1", "ix_subscriptions_stripe_customer_id"),
        ("stripe_subscription_id", "sub_1", "ix_subscriptions_stripe_subscription_id"),
    ],
)
def test_the_stripe_id_lookups_walk_an_index(conn: Connection, column: str, stripe_id: str, index: str) -> None:
    for number in range(3):
        f.tenant(conn, name=f"Account {number}", plan="Standard")
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        row[0]
        for row in conn.execute(
            text(
                # The subscriptions alone: joined to three tenants, the planner may as
                # well start from the tenants, which it never would at scale.
                f"EXPLAIN SELECT s.tenant_id FROM subscriptions s WHERE s.{column} = :stripe_id LIMIT 1"
            ),
            {"stripe_id": stripe_id},
        )
    )
    assert index in plan, plan


def test_accounts_show_json_carries_the_dashboard_urls(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as setup:
        ref = f.tenant(setup, name="Nordlys ApS", plan="Standard", state="Suspended")
    args = ["--database-url", database_url, "accounts", "show", str(ref.id), "--json"]
    code, out, err = run_cli_captured(args, monkeypatch, capsys, STRIPE_API_KEY="rk_test_dummy")
    assert code == 0, err
    document = json.loads(out)
    assert document["stripe_customer_id"] == f"cus_{ref.id}"
    assert document["stripe_customer_url"] == f"https://dashboard.stripe.com/test/customers/cus_{ref.id}"
    assert document["stripe_subscription_url"] == f"https://dashboard.stripe.com/test/subscriptions/sub_stripe_{ref.id}"
    assert (document["stripe_mode"], document["account_state"]) == ("test", "Suspended")
    code, out, _ = run_cli_captured(args, monkeypatch, capsys)
    live = json.loads(out)
    assert live["stripe_customer_url"] == f"https://dashboard.stripe.com/customers/cus_{ref.id}"
    assert live["stripe_mode"] is None
