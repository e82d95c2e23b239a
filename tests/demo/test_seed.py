"""`backoffice demo seed`: deterministic, realistic, consistent demo data."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from core.errors import OperatorError
from core.money import forward_mrr_sql
from db.enums import BillingEventType
from demo import seed as demo_seed
from demo.people import device_type
from tests.demo.conftest import NOW, TENANTS

TRANSACTION_KEYS = {
    "Id",
    "Amount",
    "AmountExcludingTax",
    "TaxAmount",
    "Currency",
    "Status",
    "Date",
    "FailureReason",
    "InvoiceUrl",
    "CreditNoteUrl",
    "Plan",
    "RefundedAt",
    "InvoiceTotal",
    "AmountFromCredit",
    "CreditNotedAt",
    "StripeInvoiceId",
}
DISCREPANCY_KEYS = {
    "Kind",
    "Description",
    "Severity",
    "ExpectedEventType",
    "ExpectedValue",
    "ActualValue",
    "OccurredAt",
}


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine: Engine, sql: str, **params: object) -> list:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def checksums(engine: Engine) -> dict[str, str]:
    return {
        table: scalar(engine, f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t")
        for table in demo_seed.TABLES
    }


# -- determinism and refusal (a database of their own) -----------------------------


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(engine: Engine) -> None:
    demo_seed.seed(engine, tenants=12, seed=7, now=NOW)
    first = checksums(engine)
    demo_seed.seed(engine, tenants=12, seed=7, now=NOW, replace=True)
    assert checksums(engine) == first
    demo_seed.seed(engine, tenants=12, seed=8, now=NOW, replace=True)
    other = checksums(engine)
    for table in ("tenants", "users", "subscriptions", "stripe_events", "billing_events", "email_logins"):
        assert other[table] != first[table], table


def test_a_database_with_tenants_is_refused_without_replace_and_kept(engine: Engine) -> None:
    demo_seed.seed(engine, tenants=5, seed=2, now=NOW)
    before = checksums(engine)
    with pytest.raises(OperatorError, match="already has 5 tenants; use --replace"):
        demo_seed.seed(engine, tenants=8, seed=3, now=NOW)
    assert checksums(engine) == before
    assert not demo_seed.database_is_empty(engine)


def test_the_default_now_is_midnight_utc_today() -> None:
    assert demo_seed.today(datetime(2026, 5, 8, 17, 45, 12, 5, tzinfo=UTC)) == datetime(2026, 5, 8, tzinfo=UTC)


def test_the_cli_seeds_prints_counts_and_refuses_existing_data(database_url: str) -> None:
    backoffice = Path(sys.executable).parent / "backoffice"
    environment = {**os.environ, "BACKOFFICE_DEBUG": ""}
    command = [str(backoffice), "--database-url", database_url, "demo", "seed", "--tenants", "20", "--seed", "3"]
    seeded = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    printed = {
        line.split(":")[0].strip(): line.split(":")[1].strip() for line in seeded.stdout.splitlines() if ":" in line
    }
    assert printed["tenants"] == "20"
    assert int(printed["users"].replace(",", "")) >= 20
    assert int(printed["email_logins"].replace(",", "")) > 0
    assert "Accounts and billing" in seeded.stderr and "Users, sessions and logins" in seeded.stderr  # progress

    refused = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)
    assert refused.returncode == 1
    assert "already has 20 tenants; use --replace" in refused.stderr

    replaced = subprocess.run([*command, "--replace"], capture_output=True, text=True, env=environment, timeout=120)
    assert replaced.returncode == 0, replaced.stderr


# -- one seeded database, read by many tests -----------------------------------------


def test_counts_are_returned_per_table_and_match_the_tables(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = seeded
    assert list(counts) == list(demo_seed.TABLES)
    for table, count in counts.items():
        assert scalar(engine, f"SELECT count(*) FROM {table}") == count, table
    assert counts["tenants"] == counts["subscriptions"] == TENANTS
    assert TENANTS * 3 <= counts["users"] <= TENANTS * 30
    logins_per_user = (counts["email_logins"] + counts["external_logins"]) / counts["users"]
    assert 2.5 <= logins_per_user <= 9
    assert 0.2 <= counts["sessions"] / counts["users"] <= 1.0
    assert counts["billing_events"] > TENANTS
    assert counts["billing_drift_checks"] >= 2


def test_every_plan_and_many_billing_event_types_appear(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    plans = {plan for (plan,) in rows(engine, "SELECT DISTINCT plan FROM tenants")}
    assert plans == {"Basis", "Standard", "Premium"}
    types = {kind for (kind,) in rows(engine, "SELECT DISTINCT event_type FROM billing_events")}
    assert types <= {member.value for member in BillingEventType}
    assert len(types) >= 10
    assert {"SubscriptionCreated", "SubscriptionRenewed", "BillingInfoAdded", "PaymentMethodUpdated"} <= types


def test_tenants_mirror_their_subscription(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    assert (
        scalar(
            engine, "SELECT count(*) FROM tenants t JOIN subscriptions s ON s.tenant_id = t.id WHERE t.plan <> s.plan"
        )
        == 0
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM subscriptions WHERE plan = 'Basis' AND (current_price_amount IS NOT NULL"
            " OR current_price_currency IS NOT NULL OR stripe_subscription_id IS NOT NULL OR scheduled_plan IS NOT NULL"
            " OR cancel_at_period_end)",
        )
        == 0
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM subscriptions WHERE plan <> 'Basis' AND (current_price_amount IS NULL"
            " OR current_price_currency <> 'DKK' OR stripe_subscription_id IS NULL OR current_period_end <= :now)",
            now=NOW,
        )
        == 0
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM tenants WHERE state = 'Suspended' AND (plan <> 'Basis' OR suspended_at IS NULL)",
        )
        == 0
    )


def test_forward_mrr_agrees_with_the_billing_event_log_except_on_problem_tenants(
    seeded: tuple[Engine, dict[str, int]],
) -> None:
    """The KPI (forward MRR over paid subscriptions) and the trend's latest
    point (each subscription's last MRR-moving new_amount) agree per
    subscription, unless the subscription is deliberately unsynced or drifted."""
    engine, _ = seeded
    disagreeing = rows(
        engine,
        f"""
        WITH latest AS (
            SELECT DISTINCT ON (subscription_id) subscription_id, new_amount
            FROM billing_events WHERE amount_delta IS NOT NULL
            ORDER BY subscription_id, occurred_at DESC, stripe_event_id COLLATE "C" DESC)
        SELECT s.id, CASE WHEN s.plan <> 'Basis' THEN {forward_mrr_sql("s")} ELSE 0 END AS kpi, coalesce(l.new_amount, 0) AS trend
        FROM subscriptions s LEFT JOIN latest l ON l.subscription_id = s.id
        WHERE NOT s.has_drift_detected
          AND NOT (s.current_price_amount IS NOT NULL AND NOT EXISTS (SELECT 1 FROM billing_events b WHERE b.subscription_id = s.id))
          AND (CASE WHEN s.plan <> 'Basis' THEN {forward_mrr_sql("s")} ELSE 0 END) <> coalesce(l.new_amount, 0)
        """,
    )
    assert disagreeing == []
    assert scalar(engine, f"SELECT sum({forward_mrr_sql('s')}) FROM subscriptions s WHERE plan <> 'Basis'") > Decimal(0)


def test_banners_have_material_drift_and_unsynced_tenants(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    drifted = rows(engine, "SELECT drift_checked_at, drift_discrepancies FROM subscriptions WHERE has_drift_detected")
    assert len(drifted) >= 2
    for checked_at, discrepancies in drifted:
        assert NOW - timedelta(days=1) < checked_at < NOW
        assert discrepancies and all(set(d) == DISCREPANCY_KEYS for d in discrepancies)
        assert all(d["Severity"] in ("Warning", "Critical") for d in discrepancies)
    assert scalar(engine, "SELECT count(*) FROM billing_drift_checks WHERE has_drift_detected") >= len(drifted)
    unsynced = rows(
        engine,
        "SELECT s.stripe_customer_id, s.last_synced_stripe_event_created_at, s.subscribed_since FROM subscriptions s"
        " WHERE s.current_price_amount IS NOT NULL AND NOT EXISTS (SELECT 1 FROM billing_events b WHERE b.subscription_id = s.id)",
    )
    assert len(unsynced) >= 1
    for customer_id, anchor, subscribed_since in unsynced:
        assert customer_id.startswith("cus_") and anchor is None and subscribed_since is None
        assert scalar(engine, "SELECT count(*) FROM stripe_events WHERE stripe_customer_id = :c", c=customer_id) == 0


def test_payment_transactions_have_the_stored_keys_and_amounts(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    elements = [
        t for (t,) in rows(engine, "SELECT t FROM subscriptions s, jsonb_array_elements(s.payment_transactions) t")
    ]
    assert len(elements) > TENANTS
    statuses = set()
    for element in elements:
        assert set(element) == TRANSACTION_KEYS
        assert element["Currency"] == "DKK" and element["Id"].startswith("pymnt_")
        for key in ("AmountExcludingTax", "TaxAmount", "InvoiceTotal", "AmountFromCredit"):
            assert isinstance(element[key], (int, float)) and element[key] >= 0
        statuses.add(element["Status"])
    assert "Succeeded" in statuses
    validated = scalar(
        engine,
        "SELECT bool_and(convalidated) FROM pg_constraint WHERE conname LIKE 'chk_subscriptions_payment_transactions_%'",
    )
    assert validated is True


def test_stripe_events_are_stripe_shaped_and_each_has_one_billing_event(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM stripe_events WHERE NOT (id LIKE 'evt\\_%' AND payload->>'id' = id AND payload->>'type' = event_type"
            " AND payload->>'object' = 'event' AND api_version = '2025-10-29.clover' AND length(payload_hash) = 64"
            " AND stripe_created_at = to_timestamp((payload->>'created')::bigint))",
        )
        == 0
    )
    assert (
        scalar(
            engine, "SELECT count(*) FROM stripe_events WHERE stripe_customer_id IS NOT NULL AND status <> 'Processed'"
        )
        == 0
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM stripe_events e WHERE e.stripe_customer_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM billing_events b WHERE b.stripe_event_id = e.id)",
        )
        == 0
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM billing_events b WHERE NOT EXISTS (SELECT 1 FROM stripe_events e WHERE e.id = b.stripe_event_id)",
        )
        == 0
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM subscriptions s WHERE s.subscribed_since IS DISTINCT FROM (SELECT min(occurred_at) FROM billing_events b"
            " WHERE b.subscription_id = s.id AND b.event_type = 'SubscriptionCreated')"
            " AND EXISTS (SELECT 1 FROM billing_events b WHERE b.subscription_id = s.id)",
        )
        == 0
    )


def test_people_sign_in_realistically(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    assert scalar(engine, "SELECT count(*) FROM users WHERE email <> lower(email)") == 0
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM tenants t WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = t.id AND u.role = 'Owner')",
        )
        == 0
    )
    assert scalar(engine, "SELECT count(*) FROM email_logins WHERE NOT completed AND retry_count >= 3") > 0
    assert scalar(engine, "SELECT count(*) FROM email_logins WHERE NOT completed AND retry_count < 3") > 0
    assert {p for (p,) in rows(engine, "SELECT DISTINCT provider_type FROM external_logins")} == {"Google", "Microsoft"}
    assert scalar(engine, "SELECT count(*) FROM external_logins WHERE login_result <> 'Success'") > 0
    window = rows(engine, "SELECT min(created_at), max(created_at) FROM email_logins")[0]
    assert NOW - timedelta(days=91) < window[0] and window[1] < NOW
    for agent, device in rows(engine, "SELECT DISTINCT user_agent, device_type FROM sessions"):
        assert device_type(agent).value == device
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM sessions WHERE NOT (ip_address LIKE '192.0.2.%' OR ip_address LIKE '198.51.100.%'"
            " OR ip_address LIKE '203.0.113.%' OR ip_address LIKE '2001:db8:%')",
        )
        == 0
    )
    assert scalar(engine, "SELECT count(*) FROM sessions WHERE revoked_at IS NULL") > 0
    assert (
        scalar(engine, "SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL AND revoked_reason IS NOT NULL") > 0
    )
    # last_seen_at is the latest thing the user did
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM users u WHERE u.last_seen_at < (SELECT max(coalesce(s.modified_at, s.created_at)) FROM sessions s WHERE s.user_id = u.id)"
            " OR u.last_seen_at < (SELECT max(l.created_at) FROM email_logins l WHERE l.email = u.email AND l.completed)",
        )
        == 0
    )
    assert scalar(engine, "SELECT count(*) FROM users WHERE NOT email_confirmed AND last_seen_at IS NOT NULL") == 0
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM external_logins l JOIN users u ON u.email = l.email WHERE l.login_result = 'Success'"
            " AND NOT u.external_identities @> jsonb_build_array(jsonb_build_object('Provider', l.provider_type))",
        )
        == 0
    )
    assert scalar(engine, "SELECT count(*) FROM users WHERE deleted_at IS NOT NULL") > 0


def test_nothing_happens_before_its_tenant_exists_or_after_now(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    for table, column in (
        ("tenants", "created_at"),
        ("users", "last_seen_at"),
        ("sessions", "created_at"),
        ("sessions", "revoked_at"),
        ("email_logins", "created_at"),
        ("external_logins", "created_at"),
        ("stripe_events", "processed_at"),
        ("billing_events", "occurred_at"),
        ("billing_events", "created_at"),
        ("subscriptions", "modified_at"),
    ):
        assert scalar(engine, f"SELECT count(*) FROM {table} WHERE {column} >= :now", now=NOW) == 0, (table, column)
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM stripe_events e JOIN subscriptions s ON s.stripe_customer_id = e.stripe_customer_id"
            " JOIN tenants t ON t.id = s.tenant_id WHERE e.stripe_created_at < t.created_at OR e.processed_at < e.stripe_created_at",
        )
        == 0
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.created_at < t.created_at",
        )
        == 0
    )
    # tenant ids grow with sign-up time, as snowflake ids do
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM (SELECT id, lag(id) OVER (ORDER BY created_at) AS previous FROM tenants) t WHERE id < previous",
        )
        == 0
    )


# -- billing cycles and the platform's history -------------------------------------


def test_every_billing_cycle_advances_the_period_as_a_noop_and_renews(seeded: tuple[Engine, dict[str, int]]) -> None:
    """Stripe sends the period update with the renewal invoice; the pipeline
    records it as NoOp. Only a downgrade taking effect carries the new period
    in its own (plan-changing) update instead."""
    engine, _ = seeded
    renewals = rows(
        engine,
        "SELECT e.payload->'data'->'object'->>'id', e.stripe_created_at, b.subscription_id FROM stripe_events e"
        " JOIN billing_events b ON b.stripe_event_id = e.id WHERE b.event_type IN ('SubscriptionRenewed', 'PaymentRecovered')"
        " OR (e.event_type = 'invoice.payment_failed' AND (e.payload->'data'->'object'->>'attempt_count')::int = 1"
        "     AND e.payload->'data'->'object'->>'billing_reason' = 'subscription_cycle')",
    )
    assert len(renewals) > TENANTS
    period_updates = {
        invoice_id: (kind, started > previous_start)
        for invoice_id, kind, started, previous_start in rows(
            engine,
            "SELECT e.payload->'data'->'object'->>'latest_invoice', b.event_type,"
            " (e.payload->'data'->'object'->'items'->'data'->0->>'current_period_start')::bigint,"
            " (e.payload->'data'->'previous_attributes'->'items'->'data'->0->>'current_period_start')::bigint"
            " FROM stripe_events e JOIN billing_events b ON b.stripe_event_id = e.id"
            " WHERE e.event_type = 'customer.subscription.updated' AND e.payload->'data'->'previous_attributes' ? 'latest_invoice'",
        )
    }
    assert period_updates and all(kind == "NoOp" and advanced for kind, advanced in period_updates.values())
    downgrades = rows(
        engine, "SELECT subscription_id, occurred_at FROM billing_events WHERE event_type = 'SubscriptionDowngraded'"
    )
    for invoice_id, created, subscription_id in renewals:
        if invoice_id in period_updates:
            continue
        assert any(s == subscription_id and created - timedelta(hours=2) < at <= created for s, at in downgrades), (
            invoice_id
        )


def test_the_history_window_sets_how_old_the_oldest_tenants_are() -> None:
    default = demo_seed.tenant_plans(2000, 5, NOW)
    longer = demo_seed.tenant_plans(2000, 5, NOW, history_days=1095)
    assert NOW - timedelta(days=400) <= default[0].created_at < NOW - timedelta(days=300)
    assert NOW - timedelta(days=1095) <= longer[0].created_at < NOW - timedelta(days=900)
    recent = sum(plan.created_at >= NOW - timedelta(days=365) for plan in longer)
    assert recent > len(longer) / 3  # growth: the last year has more than its share of sign-ups
    assert demo_seed.tenant_plans(2000, 5, NOW, history_days=1095) == longer


def test_a_history_shorter_than_the_special_tenants_need_is_refused(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    with pytest.raises(OperatorError, match="--history-days must be at least 90"):
        demo_seed.seed(engine, tenants=5, seed=1, now=NOW, history_days=30, replace=True)
    assert scalar(engine, "SELECT count(*) FROM tenants") == TENANTS
