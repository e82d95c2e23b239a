"""The drift detector's findings in order (docs/rules.md R51, R52), their storage
with history (R53), acknowledgement (R54), and the forward-MRR rule (R30)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, Engine, select

from core.errors import Forbidden, NotFound, OperatorError
from core.money import forward_mrr
from db.enums import DriftDiscrepancyKind as Kind
from db.enums import DriftSeverity as Severity
from db.enums import SubscriptionPlan as Plan
from db.models import Subscription
from stripe_sync import drift
from stripe_sync.drift import Discrepancy, ReplayFindings, StaleRow, StateSnapshot, detect
from tests import factories
from tests.factories import NOW


def snap(
    plan: Plan, price: str | None, currency: str | None = "DKK", cancel: bool = False, **scheduled
) -> StateSnapshot:
    return StateSnapshot(plan, cancel, Decimal(price) if price is not None else None, currency, **scheduled)


def kinds(found: list[Discrepancy]) -> list[Kind]:
    return [d.kind for d in found]


def test_equal_snapshots_and_no_counts_find_nothing() -> None:
    assert (
        detect(snap(Plan.Premium, "99.00"), snap(Plan.Premium, "99.00"), transaction_count=0, billing_event_count=0)
        == []
    )


def test_a_plan_difference_is_critical() -> None:
    [found] = detect(snap(Plan.Standard, "49"), snap(Plan.Premium, "49"), transaction_count=0, billing_event_count=0)
    assert (found.kind, found.severity, found.expected_value, found.actual_value) == (
        Kind.SubscriptionStateMismatch,
        Severity.Critical,
        "Premium",
        "Standard",
    )


def test_plan_and_price_differences_are_reported_separately() -> None:
    plan, price = detect(
        snap(Plan.Standard, "49"), snap(Plan.Premium, "99"), transaction_count=0, billing_event_count=0
    )
    assert plan.description == "Plan differs between local subscription and Stripe."
    assert price.description == "Current price amount differs between local subscription and Stripe."
    assert (price.severity, price.expected_value, price.actual_value) == (Severity.Critical, "99", "49")


def test_a_cancel_flag_difference_is_a_warning() -> None:
    [found] = detect(
        snap(Plan.Standard, "49"), snap(Plan.Standard, "49", cancel=True), transaction_count=0, billing_event_count=0
    )
    assert (found.kind, found.severity, found.expected_value, found.actual_value) == (
        Kind.SubscriptionStateMismatch,
        Severity.Warning,
        "True",
        "False",
    )


def test_plan_price_and_currency_differences() -> None:
    found = detect(
        snap(Plan.Standard, "49"), snap(Plan.Premium, "99", "USD"), transaction_count=0, billing_event_count=0
    )
    assert kinds(found) == [Kind.SubscriptionStateMismatch] * 3
    assert (found[2].severity, found[2].expected_value, found[2].actual_value) == (Severity.Warning, "USD", "DKK")


def test_transactions_without_billing_events_are_a_missing_event() -> None:
    same = snap(Plan.Premium, "99")
    [found] = detect(same, same, transaction_count=1, billing_event_count=0)
    assert (found.kind, found.severity, found.expected_value, found.actual_value) == (
        Kind.MissingEvent,
        Severity.Warning,
        "1",
        "0",
    )
    assert detect(same, same, transaction_count=1, billing_event_count=1) == []


def test_a_snapshot_of_a_cancelling_subscription(conn: Connection) -> None:
    tenant = factories.tenant(
        conn,
        plan="Premium",
        current_price_amount=Decimal("99.00"),
        stripe_subscription_id=None,
        cancel_at_period_end=True,
    )
    row = conn.execute(select(Subscription.__table__).where(Subscription.id == tenant.subscription_id)).one()
    assert StateSnapshot.of_subscription(row) == StateSnapshot(Plan.Premium, True, Decimal("99.00"), "DKK")


def test_a_scheduled_plan_without_a_price_is_critical() -> None:
    stripe = snap(Plan.Premium, "99")
    [found] = detect(
        snap(Plan.Premium, "99", scheduled_plan=Plan.Standard), stripe, transaction_count=0, billing_event_count=0
    )
    assert (found.kind, found.severity, found.expected_value) == (
        Kind.ScheduledPriceMissing,
        Severity.Critical,
        "Standard",
    )
    priced = snap(Plan.Premium, "99", scheduled_plan=Plan.Standard, scheduled_price=Decimal("29.00"))
    assert detect(priced, stripe, transaction_count=0, billing_event_count=0) == []


def test_replay_findings_and_clamped_transactions_in_the_rule_order() -> None:
    same = snap(Plan.Standard, "149")
    findings = ReplayFindings(
        has_unclassified_event=True,
        unsupported_api_versions=("2019-01-01", "2020-08-27"),
        stale_rows=(StaleRow("SubscriptionImmediatelyCancelled", NOW - timedelta(minutes=30)),),
    )
    clamped = factories.payment_transaction(
        amount_excluding_tax="0", tax="16.11", Amount=10.0, date=NOW.replace(month=1, day=1, hour=0)
    )
    fine = factories.payment_transaction()
    found = detect(
        same, same, transaction_count=2, billing_event_count=0, findings=findings, transactions=[clamped, fine]
    )
    assert kinds(found) == [
        Kind.MissingEvent,
        Kind.UnclassifiedStripeEvent,
        Kind.UnsupportedStripeApiVersion,
        Kind.UnsupportedStripeApiVersion,
        Kind.BillingEventDenormalizationStale,
        Kind.AmountExcludingTaxClamped,
    ]
    assert [d.severity for d in found] == [
        Severity.Warning,
        Severity.Warning,
        Severity.Critical,
        Severity.Critical,
        Severity.Warning,
        Severity.Warning,
    ]
    assert found[2].actual_value == "2019-01-01"
    assert (found[4].expected_event_type, found[4].occurred_at) == (
        "SubscriptionImmediatelyCancelled",
        NOW - timedelta(minutes=30),
    )
    assert (found[5].expected_value, found[5].actual_value, found[5].occurred_at) == (
        "10.00",
        "16.11",
        NOW.replace(month=1, day=1, hour=0),
    )


def test_the_stored_shape_has_all_seven_keys_and_enum_names() -> None:
    found = Discrepancy(
        Kind.SubscriptionStateMismatch,
        "Plan differs.",
        Severity.Critical,
        expected_value="Premium",
        actual_value="Standard",
    )
    stored = json.dumps(found.to_json())
    assert '"Kind": "SubscriptionStateMismatch"' in stored and '"Severity": "Critical"' in stored
    assert set(found.to_json()) == {
        "Kind",
        "Description",
        "Severity",
        "ExpectedEventType",
        "ExpectedValue",
        "ActualValue",
        "OccurredAt",
    }
    assert Discrepancy.from_json(found.to_json()) == found


# -- storage, history and acknowledgement -------------------------------------------


def _record(conn: Connection, tenant: factories.TenantRef, found: list[Discrepancy], at) -> None:
    drift.record(conn, subscription_id=tenant.subscription_id, tenant_id=tenant.id, discrepancies=found, now=at)


def _drift_row(conn: Connection, tenant: factories.TenantRef):
    return conn.execute(
        select(Subscription.has_drift_detected, Subscription.drift_checked_at, Subscription.drift_discrepancies).where(
            Subscription.id == tenant.subscription_id
        )
    ).one()


MISMATCH = Discrepancy(
    Kind.SubscriptionStateMismatch,
    "Plan differs.",
    Severity.Critical,
    expected_value="Premium",
    actual_value="Standard",
)
MISSING = Discrepancy(Kind.MissingEvent, "No billing events.", Severity.Warning, expected_value="1", actual_value="0")


def test_the_subscription_holds_the_latest_check_and_the_history_keeps_all(conn: Connection) -> None:
    tenant = factories.tenant(conn, plan="Standard")
    _record(conn, tenant, [], NOW - timedelta(hours=3))  # clean and nothing before: no history row
    _record(conn, tenant, [MISMATCH], NOW - timedelta(hours=2))
    _record(conn, tenant, [MISSING], NOW - timedelta(hours=1))
    _record(conn, tenant, [], NOW)  # the clearing is kept too
    row = _drift_row(conn, tenant)
    assert (row.has_drift_detected, row.drift_checked_at, row.drift_discrepancies) == (False, NOW, [])
    checks = drift.history(conn, tenant.id)
    assert [(c.has_drift_detected, [d.kind for d in c.discrepancies]) for c in checks] == [
        (False, []),
        (True, [Kind.MissingEvent]),
        (True, [Kind.SubscriptionStateMismatch]),
    ]


def test_acknowledging_clears_the_flag_only(conn: Connection) -> None:
    tenant = factories.tenant(conn, plan="Standard")
    _record(conn, tenant, [MISSING], NOW - timedelta(minutes=5))
    done = drift.acknowledge_drift_on(conn, tenant.id, "ops@example.com", NOW)
    assert done.discrepancy_count == 1
    row = _drift_row(conn, tenant)
    assert (row.has_drift_detected, row.drift_checked_at) == (False, NOW)
    assert [d["Kind"] for d in row.drift_discrepancies] == ["MissingEvent"]
    [check] = drift.history(conn, tenant.id)
    assert (check.acknowledged_at, check.acknowledged_by) == (NOW, "ops@example.com")
    # The next check that still finds drift raises the flag again.
    _record(conn, tenant, [MISSING], NOW + timedelta(hours=1))
    assert _drift_row(conn, tenant).has_drift_detected is True
    assert drift.history(conn, tenant.id)[0].acknowledged_at is None


def test_acknowledging_without_drift_or_without_a_tenant_fails(conn: Connection) -> None:
    tenant = factories.tenant(conn, plan="Standard")
    with pytest.raises(OperatorError, match="Subscription has no drift to acknowledge."):
        drift.acknowledge_drift_on(conn, tenant.id, "ops", NOW)
    with pytest.raises(NotFound, match="tenant 42 not found"):
        drift.acknowledge_drift_on(conn, 42, "ops", NOW)


def test_acknowledging_needs_an_admin(engine: Engine, reader: Engine) -> None:
    with engine.begin() as conn:
        tenant = factories.tenant(conn, plan="Standard")
        _record(conn, tenant, [MISSING], NOW)
    assert drift.acknowledge_drift(engine, tenant.id, "ops", NOW).discrepancy_count == 1  # the superuser is an admin
    with engine.begin() as conn:
        _record(conn, tenant, [MISSING], NOW)
    with pytest.raises(Forbidden):
        drift.acknowledge_drift(reader, tenant.id, "ops", NOW)
    with engine.connect() as conn:
        assert _drift_row(conn, tenant).has_drift_detected is True


# -- forward MRR (MrrCalculatorTests, through core.money) --------------------------


@pytest.mark.parametrize(
    ("price", "cancelling", "scheduled", "expected"),
    [
        ("149", True, None, "0"),
        ("299", False, "149", "149"),
        ("149", False, None, "149"),
        ("299", False, None, "299"),  # scheduled plan without a price falls back
        (None, False, None, "0"),  # Basis without a price
    ],
)
def test_forward_mrr(price: str | None, cancelling: bool, scheduled: str | None, expected: str) -> None:
    value = forward_mrr(Decimal(price) if price else None, cancelling, Decimal(scheduled) if scheduled else None)
    assert value == Decimal(expected)
