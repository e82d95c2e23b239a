"""Live processing of a customer (docs/rules.md R57-R64): pending events
processed, billing events appended once, catalog gaps (R62), detect mode
(R55), the replay seed and stale rows (R16, R29), Stripe's events list
reconciled with what was received (R57-R59), and the state a received webhook
leaves, against a recorded-data Stripe gateway (fake_stripe.py).

A "webhook" here is processing with the received event in memory, as the
receiver does after storing it; the fake webhook bodies here are a marker
string, not JSON, so those events carry no data (an unusable payload reads as
"no data", docs/rules.md R27).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from db.enums import BillingEventType as T
from db.enums import DriftDiscrepancyKind as Kind
from db.enums import SubscriptionPlan as Plan
from db.models import BillingEvent, StripeEvent, Subscription, Tenant
from stripe_sync.errors import CurrencyMismatch, StripeUnavailable
from stripe_sync.processing import ProcessResult, process_customer
from tests import factories
from tests.factories import NOW
from tests.stripe_sync.fake_stripe import API_VERSION, CUSTOMER, STRIPE_SUBSCRIPTION, FakeStripe
from tests.stripe_sync.stripe_events import event, items, price

D = Decimal


def l_std(conn: Connection, **changes: Any) -> factories.TenantRef:
    """Standard 149 DKK, customer and Stripe subscription set, nothing else."""
    values: dict[str, Any] = dict(
        stripe_customer_id=CUSTOMER,
        stripe_subscription_id=STRIPE_SUBSCRIPTION,
        current_period_end=NOW + timedelta(days=30),
        subscribed_since=None,
    )
    values.update(changes)
    return factories.tenant(conn, plan=values.pop("plan", "Standard"), **values)


def l_free(conn: Connection, **changes: Any) -> factories.TenantRef:
    return factories.tenant(conn, plan="Basis", stripe_customer_id=CUSTOMER, **changes)


def webhook(event_type: str, id: str | None = None, data: Any = "customer:cus_mock_12345") -> dict[str, Any]:
    """A fake webhook event: created now, its raw (non-JSON) body as data (docs/rules.md R27)."""
    return {
        "id": id or f"evt_mock_12345_{abs(hash((event_type, id))):x}",
        "type": event_type,
        "created": int(NOW.timestamp()),
        "api_version": API_VERSION,
        "data": data,
    }


def apply(
    conn: Connection, stripe: FakeStripe, *, force: bool = True, event: dict | None = None
) -> ProcessResult | None:
    return process_customer(conn, stripe, CUSTOMER, now=NOW, force=force, webhook_event=event)


def detect(conn: Connection, stripe: FakeStripe) -> ProcessResult | None:
    return process_customer(conn, stripe, CUSTOMER, now=NOW, force=True, apply=False)


def rows(conn: Connection, tenant: factories.TenantRef, event_type: str | None = None) -> list[Any]:
    query = (
        select(BillingEvent.__table__)
        .where(BillingEvent.tenant_id == tenant.id)
        .order_by(BillingEvent.occurred_at, BillingEvent.stripe_event_id)
    )
    if event_type:
        query = query.where(BillingEvent.event_type == event_type)
    return list(conn.execute(query))


def subscription(conn: Connection, tenant: factories.TenantRef) -> Any:
    return conn.execute(select(Subscription.__table__).where(Subscription.id == tenant.subscription_id)).one()


def tenant_row(conn: Connection, tenant: factories.TenantRef) -> Any:
    return conn.execute(select(Tenant.__table__).where(Tenant.id == tenant.id)).one()


def kinds(conn: Connection, tenant: factories.TenantRef) -> list[str]:
    return [d["Kind"] for d in subscription(conn, tenant).drift_discrepancies]


def amounts(row: Any) -> tuple:
    return (row.previous_amount, row.new_amount, row.amount_delta, row.committed_mrr)


def count(conn: Connection, model: Any) -> int:
    return conn.execute(select(func.count()).select_from(model)).scalar_one()


def failing(conn: Connection, call, error: type[Exception]) -> Exception:
    """Run `call` in a savepoint that a raised `error` rolls back, as the
    caller's transaction would."""
    with pytest.raises(error) as raised:
        with conn.begin_nested():
            call()
    return raised.value


# -- BillingEventAppend -----------------------------------------------------------


def test_a_webhook_on_a_free_subscription_backfills_the_stripe_timeline(conn: Connection) -> None:
    tenant = l_free(conn)
    apply(conn, FakeStripe(), event=webhook("checkout.session.completed"))
    [created] = rows(conn, tenant, T.SubscriptionCreated)
    assert (created.to_plan, created.currency, created.occurred_at) == (
        Plan.Standard,
        "DKK",
        NOW - timedelta(minutes=5),
    )
    assert amounts(created) == (0, D("149.00"), D("149.00"), D("149.00"))
    assert [r.event_type for r in rows(conn, tenant)] == [T.PaymentMethodUpdated, T.SubscriptionCreated, T.NoOp]
    assert subscription(conn, tenant).subscribed_since == NOW - timedelta(minutes=5)
    assert tenant_row(conn, tenant).state == "Active"


def test_a_failed_renewal_is_recorded_once_from_the_events_list(conn: Connection) -> None:
    tenant = l_std(conn)
    apply(conn, FakeStripe(status="past_due"), event=webhook("invoice.payment_failed"))
    [failed] = rows(conn, tenant, T.PaymentFailed)
    assert (failed.stripe_event_id, failed.occurred_at, failed.new_amount) == (
        "evt_mock_payment_failed",
        NOW - timedelta(minutes=1),
        D("149.00"),
    )


def test_a_deleted_customer_is_one_suspension_from_webhook_and_list(conn: Connection) -> None:
    tenant = l_std(conn)
    apply(conn, FakeStripe(customer_deleted=True), event=webhook("customer.deleted", "evt_mock_customer_deleted"))
    [suspended] = rows(conn, tenant, T.SubscriptionSuspended)
    assert suspended.suspension_reason == "CustomerDeleted"
    assert (suspended.from_plan, suspended.to_plan, suspended.currency) == (Plan.Standard, Plan.Basis, "DKK")
    assert amounts(suspended) == (D("149.00"), 0, D("-149.00"), 0)


def test_a_second_webhook_does_not_create_the_subscription_again(conn: Connection) -> None:
    tenant = l_free(conn)
    stripe = FakeStripe()
    apply(conn, stripe, event=webhook("checkout.session.completed", "evt_first_run"))
    apply(conn, stripe, event=webhook("customer.subscription.updated", "evt_second_run"))
    assert len(rows(conn, tenant, T.SubscriptionCreated)) == 1


def test_a_redelivered_webhook_adds_nothing(conn: Connection) -> None:
    tenant = l_free(conn)
    stripe = FakeStripe()
    apply(conn, stripe, event=webhook("checkout.session.completed", "evt_redelivered"))
    first = [(r.id, r.stripe_event_id) for r in rows(conn, tenant)]
    apply(conn, stripe, event=webhook("checkout.session.completed", "evt_redelivered"))
    assert [(r.id, r.stripe_event_id) for r in rows(conn, tenant)] == first


def test_the_webhook_event_is_replayed_in_the_same_pass(conn: Connection) -> None:
    tenant = l_std(conn)
    body = {"object": {"status": "past_due"}, "previous_attributes": {"status": "active"}}
    apply(conn, FakeStripe(), event=webhook("customer.subscription.updated", "evt_unique_past_due", data=body))
    [row] = [r for r in rows(conn, tenant) if r.stripe_event_id == "evt_unique_past_due"]
    assert row.event_type == T.SubscriptionPastDue


def test_a_missing_scheduled_price_is_healed_from_the_catalog(conn: Connection) -> None:
    tenant = l_std(conn, scheduled_plan="Premium", scheduled_price_amount=None)
    apply(conn, FakeStripe(scheduled_plan=Plan.Premium), event=webhook("customer.subscription.updated"))
    assert subscription(conn, tenant).scheduled_price_amount == D("299.00")
    assert Kind.ScheduledPriceMissing not in kinds(conn, tenant)


# -- ProcessPendingStripeEvents -----------------------------------------------------


def test_the_replay_is_seeded_from_the_latest_persisted_row(conn: Connection) -> None:
    tenant = l_std(conn, current_price_amount=D("299.00"), last_synced_stripe_event_created_at=NOW - timedelta(days=31))
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionCreated",
        occurred_at=NOW - timedelta(days=60),
        previous_amount="0",
        new_amount="299",
        to_plan="Standard",
    )
    cancel = event(
        "customer.subscription.updated",
        id="evt_cancel_seeded",
        created=NOW - timedelta(minutes=10),
        obj={"cancel_at_period_end": True, "currency": "dkk", "items": items(price("price_mock_standard", 29900))},
        previous={"cancel_at_period_end": False},
        api_version=API_VERSION,
    )
    apply(conn, FakeStripe(extra_events=[cancel]))
    [cancelled] = rows(conn, tenant, T.SubscriptionCancelled)
    assert amounts(cancelled) == (D("299.00"), 0, D("-299.00"), 0)


def pending_rows(conn: Connection) -> None:
    for event_type in ("customer.subscription.updated", "invoice.payment_succeeded"):
        factories.stripe_event(
            conn,
            {"id": f"evt_pending_{event_type}", "type": event_type, "created": int(NOW.timestamp())},
            customer_id=CUSTOMER,
        )
        conn.execute(
            StripeEvent.__table__.update().where(StripeEvent.id == f"evt_pending_{event_type}").values(payload=None)
        )


def statuses(conn: Connection) -> list[tuple]:
    return list(
        conn.execute(
            select(StripeEvent.status, StripeEvent.tenant_id, StripeEvent.stripe_subscription_id)
            .where(StripeEvent.id.like("evt_pending_%"))
            .order_by(StripeEvent.id)
        )
    )


def test_pending_events_stay_pending_when_stripe_cannot_be_read(conn: Connection) -> None:
    l_std(conn)
    pending_rows(conn)
    failing(conn, lambda: apply(conn, FakeStripe(customer_read_fails=True), force=False), StripeUnavailable)
    assert [status for status, _, _ in statuses(conn)] == ["Pending", "Pending"]


def test_pending_events_are_processed_with_tenant_and_subscription(conn: Connection) -> None:
    tenant = l_std(conn)
    pending_rows(conn)
    result = apply(conn, FakeStripe(), force=False)
    assert result is not None and result.processed_events == 2
    assert statuses(conn) == [("Processed", tenant.id, STRIPE_SUBSCRIPTION)] * 2


def test_without_pending_events_or_force_nothing_runs(conn: Connection) -> None:
    l_std(conn)
    stripe = FakeStripe()
    result = apply(conn, stripe, force=False)
    assert result is not None and not result.synced
    assert stripe.list_calls == []


def test_events_of_a_customer_no_subscription_carries_wait(conn: Connection) -> None:
    factories.stripe_event(conn, webhook("checkout.session.completed", "evt_orphan", data={}), customer_id=CUSTOMER)
    assert apply(conn, FakeStripe(), force=False) is None
    assert conn.execute(select(StripeEvent.status).where(StripeEvent.id == "evt_orphan")).scalar_one() == "Pending"


# -- the scheduled price and the catalog (CatalogGap) ---------------------------------


def test_a_catalog_miss_leaves_the_scheduled_price_unset_without_failing(conn: Connection) -> None:
    tenant = l_std(conn)
    result = apply(
        conn, FakeStripe(scheduled_plan=Plan.Premium, catalog_plans=()), event=webhook("customer.subscription.updated")
    )
    row = subscription(conn, tenant)
    assert (row.scheduled_plan, row.scheduled_price_amount) == ("Premium", None)
    assert result is not None and "catalog has no price for Premium" in result.state.transitions
    assert Kind.ScheduledPriceMissing in kinds(conn, tenant)


def test_a_schedule_gone_at_stripe_clears_the_local_one_even_with_an_empty_catalog(conn: Connection) -> None:
    tenant = l_std(conn, scheduled_plan="Premium", scheduled_price_amount=D("299.00"))
    apply(conn, FakeStripe(catalog_plans=()), event=webhook("customer.subscription.updated"))
    row = subscription(conn, tenant)
    assert (row.scheduled_plan, row.scheduled_price_amount) == (None, None)


def test_a_catalog_miss_keeps_a_known_scheduled_price(conn: Connection) -> None:
    tenant = l_std(conn, scheduled_plan="Premium", scheduled_price_amount=D("299.00"))
    apply(
        conn, FakeStripe(scheduled_plan=Plan.Premium, catalog_plans=()), event=webhook("customer.subscription.updated")
    )
    assert subscription(conn, tenant).scheduled_price_amount == D("299.00")


def test_a_catalog_missing_only_the_scheduled_plan(conn: Connection) -> None:
    tenant = l_std(conn)
    apply(
        conn,
        FakeStripe(scheduled_plan=Plan.Premium, catalog_plans=(Plan.Standard,)),
        event=webhook("customer.subscription.updated"),
    )
    assert subscription(conn, tenant).scheduled_price_amount is None


# -- Detect mode ------------------------------------------------------------------------


def test_detect_reports_a_mismatch_and_changes_nothing_else(conn: Connection) -> None:
    tenant = l_std(conn, plan="Premium", current_price_amount=D("149.00"))
    before = subscription(conn, tenant)
    detect(conn, FakeStripe())
    after = subscription(conn, tenant)
    assert after.has_drift_detected and after.drift_checked_at == NOW
    assert "SubscriptionStateMismatch" in kinds(conn, tenant)
    assert (after.plan, after.current_price_amount, after.last_synced_stripe_event_created_at) == (
        "Premium",
        D("149.00"),
        None,
    )
    assert after.modified_at == before.modified_at  # a column-only drift write
    assert count(conn, BillingEvent) == 0 and count(conn, StripeEvent) == 0


def test_detect_on_a_matching_subscription_finds_no_drift_and_stores_nothing(conn: Connection) -> None:
    tenant = l_std(conn)
    detect(conn, FakeStripe())
    row = subscription(conn, tenant)
    assert (row.has_drift_detected, row.drift_checked_at) == (False, NOW)
    assert count(conn, BillingEvent) == 0 and count(conn, StripeEvent) == 0


def test_detect_leaves_the_drift_status_alone_when_stripe_cannot_be_read(conn: Connection) -> None:
    tenant = l_std(conn, drift_checked_at=NOW - timedelta(hours=25))
    failing(conn, lambda: detect(conn, FakeStripe(customer_read_fails=True)), StripeUnavailable)
    assert subscription(conn, tenant).drift_checked_at == NOW - timedelta(hours=25)
    detect(conn, FakeStripe())
    assert subscription(conn, tenant).drift_checked_at == NOW


def test_detect_on_a_deleted_customer_with_unlogged_payments(conn: Connection) -> None:
    transactions = [factories.payment_transaction(date=datetime(2026, month, 1, tzinfo=NOW.tzinfo)) for month in (1, 2)]
    tenant = l_free(conn, payment_transactions=transactions)
    detect(conn, FakeStripe(customer_deleted=True))
    row = subscription(conn, tenant)
    assert row.has_drift_detected
    [missing] = row.drift_discrepancies
    assert (missing["Kind"], missing["Severity"], missing["ExpectedValue"], missing["ActualValue"]) == (
        "MissingEvent",
        "Warning",
        "2",
        "0",
    )


# -- LedgerCorrectness ---------------------------------------------------------------------


def test_a_partial_events_list_does_not_move_the_anchor(conn: Connection) -> None:
    tenant = l_std(conn, last_synced_stripe_event_created_at=NOW - timedelta(days=2))
    stripe = FakeStripe(list_fails_part_way=True)
    apply(conn, stripe)
    assert subscription(conn, tenant).last_synced_stripe_event_created_at == NOW - timedelta(days=2)
    assert len(rows(conn, tenant)) == 3  # the partial list is still used
    stripe.list_fails_part_way = False
    apply(conn, stripe)
    assert len(rows(conn, tenant)) == 3  # the full pull adds only what is missing
    assert subscription(conn, tenant).last_synced_stripe_event_created_at == NOW - timedelta(minutes=4)


def test_a_clamped_transaction_is_reported(conn: Connection) -> None:
    clamped = factories.payment_transaction(
        amount_excluding_tax="0", tax="16.11", Amount=10.0, date=datetime(2026, 1, 1, tzinfo=NOW.tzinfo)
    )
    tenant = l_std(conn, payment_transactions=[clamped])
    detect(conn, FakeStripe())
    found = {d["Kind"]: d for d in subscription(conn, tenant).drift_discrepancies}
    assert set(found) == {"MissingEvent", "AmountExcludingTaxClamped"}
    assert (found["AmountExcludingTaxClamped"]["ExpectedValue"], found["AmountExcludingTaxClamped"]["ActualValue"]) == (
        "10.00",
        "16.11",
    )


# -- EventLogReconciliation --------------------------------------------------------------


def test_an_out_of_order_recovery_reports_the_stale_row_and_never_rewrites_it(conn: Connection) -> None:
    tenant = l_std(conn)
    created = event(
        "customer.subscription.created",
        id="evt_mock_subscription_created_seed",
        created=NOW - timedelta(hours=2),
        obj={"items": items("price_mock_standard")},
        api_version=API_VERSION,
    )
    deleted = event(
        "customer.subscription.deleted",
        id="evt_mock_subscription_deleted_seed",
        created=NOW - timedelta(minutes=30),
        obj={"status": "canceled", "cancel_at_period_end": False},
        api_version=API_VERSION,
    )
    updated = event(
        "customer.updated",
        id="evt_mock_billing_info_updated_after_deleted",
        created=NOW - timedelta(minutes=5),
        obj={"name": "Renamed"},
        api_version=API_VERSION,
    )
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionImmediatelyCancelled",
        occurred_at=NOW - timedelta(minutes=30),
        stripe_event_id=deleted["id"],
        previous_amount="0",
        new_amount="0",
        to_plan="Basis",
        committed_mrr="0",
    )
    factories.billing_event(
        conn,
        tenant,
        "BillingInfoUpdated",
        occurred_at=NOW - timedelta(minutes=5),
        stripe_event_id=updated["id"],
        currency=None,
        committed_mrr="0",
    )
    apply(conn, FakeStripe(extra_events=[created, deleted, updated]), event=webhook("customer.subscription.updated"))
    [kept] = rows(conn, tenant, T.SubscriptionImmediatelyCancelled)
    assert kept.amount_delta == 0
    [stale] = [
        d for d in subscription(conn, tenant).drift_discrepancies if d["Kind"] == "BillingEventDenormalizationStale"
    ]
    assert (stale["Severity"], stale["ExpectedEventType"]) == ("Warning", "SubscriptionImmediatelyCancelled")
    assert datetime.fromisoformat(stale["OccurredAt"]) == NOW - timedelta(minutes=30)
    assert len(rows(conn, tenant, T.SubscriptionCreated)) == 2  # the seed one and E2


def upgraded_at(at: datetime, id: str) -> dict:
    return event(
        "customer.subscription.updated",
        id=id,
        created=at,
        obj={"items": items("price_mock_premium")},
        api_version=API_VERSION,
    )


def test_a_re_pulled_boundary_event_is_not_stale(conn: Connection) -> None:
    tenant = l_std(conn, last_synced_stripe_event_created_at=NOW - timedelta(days=1))
    boundary = upgraded_at(NOW - timedelta(days=1), "evt_mock_boundary_upgraded")
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionUpgraded",
        occurred_at=NOW - timedelta(days=1),
        stripe_event_id=boundary["id"],
        previous_amount="149",
        new_amount="299",
        from_plan="Standard",
        to_plan="Premium",
    )
    stripe = FakeStripe(extra_events=[boundary])
    apply(conn, stripe, event=webhook("customer.subscription.updated"))
    assert "BillingEventDenormalizationStale" not in kinds(conn, tenant)
    assert not subscription(conn, tenant).has_drift_detected


def test_same_second_siblings_of_the_seed_are_not_stale(conn: Connection) -> None:
    tenant = l_std(conn, last_synced_stripe_event_created_at=NOW - timedelta(days=1))
    at = NOW - timedelta(days=1)
    pre = event("customer.updated", id="evt_mock_cluster_noop_pre", created=at, obj={}, api_version=API_VERSION)
    upgraded = upgraded_at(at, "evt_mock_cluster_upgraded")
    post = event("customer.updated", id="evt_mock_cluster_noop_post", created=at, obj={}, api_version=API_VERSION)
    factories.billing_event(
        conn,
        tenant,
        "BillingInfoUpdated",
        occurred_at=at,
        stripe_event_id=pre["id"],
        currency=None,
        committed_mrr="149",
    )
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionUpgraded",
        occurred_at=at,
        stripe_event_id=upgraded["id"],
        previous_amount="149",
        new_amount="299",
    )
    factories.billing_event(
        conn,
        tenant,
        "BillingInfoUpdated",
        occurred_at=at,
        stripe_event_id=post["id"],
        currency=None,
        committed_mrr="299",
    )
    apply(conn, FakeStripe(extra_events=[pre, upgraded, post]), event=webhook("customer.subscription.updated"))
    assert "BillingEventDenormalizationStale" not in kinds(conn, tenant)
    assert not subscription(conn, tenant).has_drift_detected


def test_listed_events_never_received_are_archived_as_recovered(conn: Connection) -> None:
    l_free(conn)
    apply(conn, FakeStripe(), event=webhook("checkout.session.completed"))
    row = conn.execute(select(StripeEvent.__table__).where(StripeEvent.id == "evt_mock_subscription_created")).one()
    assert (row.recovery_source, row.status, row.recovered_at, row.processed_at) == (
        "events_list",
        "Processed",
        NOW,
        NOW,
    )
    assert row.stripe_created_at == NOW - timedelta(minutes=5)
    assert row.tenant_id is None and len(row.payload_hash) == 64


def test_billing_events_occur_at_stripe_time_not_ingestion_time(conn: Connection) -> None:
    tenant = l_std(conn)
    created = event(
        "customer.subscription.created",
        id="evt_stripe_created_subscription_created",
        created=NOW - timedelta(hours=3),
        obj={"items": items("price_mock_standard")},
        api_version=API_VERSION,
    )
    renewed = event(
        "invoice.payment_succeeded",
        id="evt_stripe_created_invoice_payment_succeeded",
        created=NOW - timedelta(hours=1),
        obj={"attempt_count": 1, "billing_reason": "subscription_cycle"},
        api_version=API_VERSION,
    )
    apply(conn, FakeStripe(extra_events=[created, renewed]), event=webhook("checkout.session.completed"))
    by_id = {r.stripe_event_id: r for r in rows(conn, tenant)}
    assert by_id[created["id"]].occurred_at == NOW - timedelta(hours=3)
    assert by_id[renewed["id"]].occurred_at == NOW - timedelta(hours=1)
    assert (by_id[renewed["id"]].event_type, by_id[renewed["id"]].new_amount) == (T.SubscriptionRenewed, D("149.00"))
    recovered = conn.execute(select(StripeEvent.stripe_created_at).where(StripeEvent.id == created["id"])).scalar_one()
    assert recovered == NOW - timedelta(hours=3)


# -- state transitions (AcknowledgeStripeWebhook) -----------------------------------------


def test_payment_recovery_clears_the_failure(conn: Connection) -> None:
    tenant = l_std(conn, first_payment_failed_at=NOW - timedelta(hours=48))
    apply(conn, FakeStripe(), event=webhook("invoice.payment_succeeded"))
    assert subscription(conn, tenant).first_payment_failed_at is None


def test_a_failed_payment_keeps_the_plan_and_the_first_failure_time(conn: Connection) -> None:
    tenant = l_std(conn)
    apply(conn, FakeStripe(status="past_due"), event=webhook("invoice.payment_failed"))
    assert subscription(conn, tenant).first_payment_failed_at == NOW
    assert (tenant_row(conn, tenant).state, subscription(conn, tenant).plan) == ("Active", "Standard")
    # A later failure keeps the first failure time.
    conn.execute(
        Subscription.__table__.update()
        .where(Subscription.id == tenant.subscription_id)
        .values(first_payment_failed_at=NOW - timedelta(hours=48))
    )
    apply(conn, FakeStripe(status="past_due"), event=webhook("invoice.payment_failed", "evt_again"))
    assert subscription(conn, tenant).first_payment_failed_at == NOW - timedelta(hours=48)


def test_the_final_dunning_cancellation_suspends_the_tenant(conn: Connection) -> None:
    tenant = l_std(conn, first_payment_failed_at=NOW - timedelta(days=5))
    apply(conn, FakeStripe(subscription_deleted=True), event=webhook("customer.subscription.deleted"))
    assert (tenant_row(conn, tenant).state, tenant_row(conn, tenant).suspension_reason) == (
        "Suspended",
        "PaymentFailed",
    )
    row = subscription(conn, tenant)
    assert (row.plan, row.stripe_subscription_id, row.first_payment_failed_at) == ("Basis", None, None)


def test_a_cancellation_resets_to_free_and_keeps_the_tenant_active(conn: Connection) -> None:
    tenant = l_std(conn, cancellation_reason="NoLongerNeeded")
    apply(conn, FakeStripe(subscription_deleted=True), event=webhook("customer.subscription.deleted"))
    assert tenant_row(conn, tenant).state == "Active"
    row = subscription(conn, tenant)
    assert (row.plan, row.current_price_amount, row.current_price_currency, row.cancellation_reason) == (
        "Basis",
        None,
        None,
        None,
    )
    assert row.current_period_end == NOW + timedelta(days=30)  # kept as the expiry date
    assert (tenant_row(conn, tenant).plan, row.stripe_customer_id) == ("Basis", CUSTOMER)


def test_a_new_subscription_reactivates_a_suspended_tenant(conn: Connection) -> None:
    tenant = l_free(conn, state="Suspended")
    conn.execute(
        Tenant.__table__.update()
        .where(Tenant.id == tenant.id)
        .values(suspension_reason="PaymentFailed", suspended_at=NOW - timedelta(days=3))
    )
    apply(conn, FakeStripe(), event=webhook("checkout.session.completed"))
    row = tenant_row(conn, tenant)
    assert (row.state, row.suspension_reason, row.plan) == ("Active", None, "Standard")


def test_a_deleted_customer_suspends_the_tenant(conn: Connection) -> None:
    tenant = l_std(conn)
    apply(conn, FakeStripe(customer_deleted=True), event=webhook("customer.deleted"))
    row = tenant_row(conn, tenant)
    assert (row.state, row.suspension_reason, row.suspended_at) == ("Suspended", "CustomerDeleted", NOW)


def test_an_existing_suspension_is_not_re_reasoned(conn: Connection) -> None:
    tenant = l_std(conn, cancellation_reason="NoLongerNeeded", first_payment_failed_at=NOW - timedelta(days=1))
    conn.execute(
        Tenant.__table__.update()
        .where(Tenant.id == tenant.id)
        .values(state="Suspended", suspension_reason="CustomerDeleted", suspended_at=NOW - timedelta(days=2))
    )
    apply(conn, FakeStripe(subscription_deleted=True), event=webhook("customer.subscription.deleted"))
    row = tenant_row(conn, tenant)
    assert (row.state, row.suspension_reason, row.suspended_at) == (
        "Suspended",
        "CustomerDeleted",
        NOW - timedelta(days=2),
    )


def test_the_customer_deleted_path_wins_over_the_subscription_deleted_one(conn: Connection) -> None:
    tenant = l_std(conn, cancellation_reason="NoLongerNeeded")
    factories.stripe_event(
        conn,
        {"id": "evt_mock_12345_customer_deleted", "type": "customer.deleted", "created": int(NOW.timestamp())},
        customer_id=CUSTOMER,
    )
    apply(
        conn,
        FakeStripe(customer_deleted=True, subscription_deleted=True),
        event=webhook("customer.subscription.deleted"),
    )
    assert tenant_row(conn, tenant).suspension_reason == "CustomerDeleted"


def test_a_customer_deleted_while_on_basis_is_handled(conn: Connection) -> None:
    tenant = l_free(conn)
    apply(conn, FakeStripe(customer_deleted=True), event=webhook("customer.deleted"))
    assert tenant_row(conn, tenant).suspension_reason == "CustomerDeleted"
    assert subscription(conn, tenant).plan == "Basis"


# -- never reset on error (docs/rules.md R60) ------------------------------------------------


@pytest.mark.parametrize(
    ("stripe", "error"),
    [
        (FakeStripe(subscription_read_fails=True), StripeUnavailable),
        (FakeStripe(currency="USD", catalog_plans=(Plan.Standard, Plan.Premium)), CurrencyMismatch),
    ],
)
def test_a_stripe_error_or_currency_mismatch_changes_nothing(
    conn: Connection, stripe: FakeStripe, error: type[Exception]
) -> None:
    tenant = l_std(conn, subscribed_since=NOW - timedelta(days=90))
    if error is CurrencyMismatch:
        stripe.price_catalog = lambda: FakeStripe().price_catalog()  # platform DKK, subscription USD
    before = subscription(conn, tenant)
    pending_rows(conn)
    raised = failing(conn, lambda: apply(conn, stripe, event=webhook("invoice.payment_succeeded")), error)
    assert str(raised)
    after = subscription(conn, tenant)
    assert after == before
    assert (tenant_row(conn, tenant).plan, count(conn, BillingEvent)) == ("Standard", 0)
    assert [status for status, _, _ in statuses(conn)] == ["Pending", "Pending"]


# -- processing paths ----------------------------------------------------------------------


def test_unsupported_api_versions_are_reported_until_no_longer_seen(conn: Connection) -> None:
    tenant = l_std(conn)
    old = event(
        "invoice.payment_succeeded",
        id="evt_old_version",
        created=NOW - timedelta(minutes=10),
        obj={"billing_reason": "subscription_cycle"},
        api_version="2019-12-03",
    )
    apply(conn, FakeStripe(extra_events=[old]))
    assert "evt_old_version" not in {r.stripe_event_id for r in rows(conn, tenant)}
    [found] = [d for d in subscription(conn, tenant).drift_discrepancies if d["Kind"] == "UnsupportedStripeApiVersion"]
    assert (found["Severity"], found["ActualValue"]) == ("Critical", "2019-12-03")
    apply(conn, FakeStripe(extra_events=[old]))  # the anchor has moved past it
    assert "UnsupportedStripeApiVersion" not in kinds(conn, tenant)


def test_an_older_webhook_event_never_moves_the_anchor_back(conn: Connection) -> None:
    tenant = l_std(conn)
    stripe = FakeStripe()
    apply(conn, stripe)
    anchor = subscription(conn, tenant).last_synced_stripe_event_created_at
    assert anchor == NOW - timedelta(minutes=4)
    old = event(
        "charge.refunded",
        id="evt_old_refund",
        created=NOW - timedelta(days=3),
        obj={"currency": "dkk"},
        api_version=API_VERSION,
    )
    apply(conn, stripe, event=old)
    assert subscription(conn, tenant).last_synced_stripe_event_created_at == anchor
    assert stripe.list_calls[-1] == anchor  # inclusive: created >= anchor


def test_many_syncs_over_an_inclusive_anchor_duplicate_nothing_and_find_no_drift(conn: Connection) -> None:
    tenant = l_std(conn)
    stripe = FakeStripe()
    for _ in range(4):
        apply(conn, stripe)
    assert [r.event_type for r in rows(conn, tenant)] == [T.PaymentMethodUpdated, T.SubscriptionCreated, T.NoOp]
    assert subscription(conn, tenant).drift_discrepancies == []


def test_detect_does_not_move_the_anchor(conn: Connection) -> None:
    tenant = l_std(conn)
    detect(conn, FakeStripe())
    assert subscription(conn, tenant).last_synced_stripe_event_created_at is None


def test_the_first_sync_backfills_from_the_stored_archive(conn: Connection) -> None:
    """docs/rules.md R59: events older than Stripe's window, kept in stripe_events,
    are projected on the first sync of a subscription without billing events."""
    tenant = l_std(conn)
    old = event(
        "customer.subscription.created",
        id="evt_archived_created",
        created=NOW - timedelta(days=200),
        obj={"items": items(price("price_mock_standard", 9900, "dkk"))},
        api_version=API_VERSION,
    )
    factories.stripe_event(conn, old, status="Processed", customer_id=CUSTOMER, received_at=NOW - timedelta(days=200))
    apply(conn, FakeStripe())
    created = rows(conn, tenant, T.SubscriptionCreated)
    assert [r.stripe_event_id for r in created] == ["evt_archived_created", "evt_mock_subscription_created"]
    assert subscription(conn, tenant).subscribed_since == NOW - timedelta(days=200)


def test_a_sync_covering_several_changes_computes_each_from_the_state_before_it(conn: Connection) -> None:
    """An upgrade and then a cancellation seen in one sync: the upgrade is
    priced before the cancellation (the seed comes from the ledger, not from
    Stripe's state after both)."""
    tenant = l_std(conn, last_synced_stripe_event_created_at=NOW - timedelta(days=10))
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionCreated",
        occurred_at=NOW - timedelta(days=10),
        stripe_event_id="evt_created_before",
        previous_amount="0",
        new_amount="149",
        to_plan="Standard",
    )
    upgrade = event(
        "customer.subscription.updated",
        id="evt_multi_upgrade",
        created=NOW - timedelta(hours=2),
        obj={"currency": "dkk", "items": items("price_mock_premium")},
        previous={"items": items("price_mock_standard")},
        api_version=API_VERSION,
    )
    cancel = event(
        "customer.subscription.updated",
        id="evt_multi_cancel",
        created=NOW - timedelta(hours=1),
        obj={"currency": "dkk"},
        previous={"cancel_at_period_end": False},
        api_version=API_VERSION,
    )
    stripe = FakeStripe(plan=Plan.Premium, cancel_at_period_end=True, extra_events=[upgrade, cancel])
    stripe.list_events = lambda customer, since: FakeStripe.list_events(stripe, customer, since).__class__(
        [upgrade, cancel], True
    )  # type: ignore[method-assign]
    apply(conn, stripe)
    upgraded, cancelled = rows(conn, tenant)[1:]
    assert (upgraded.event_type, amounts(upgraded)) == (
        T.SubscriptionUpgraded,
        (D("149.00"), D("299.00"), D("150.00"), D("299.00")),
    )
    assert (cancelled.event_type, amounts(cancelled)) == (T.SubscriptionCancelled, (D("299.00"), 0, D("-299.00"), 0))
    assert upgraded.days_on_previous_plan == 9


# -- a customer Stripe does not know (404) ---------------------------------------------


def test_a_customer_missing_in_stripe_is_critical_drift_and_changes_nothing_else(conn: Connection) -> None:
    tenant = l_std(conn, subscribed_since=NOW - timedelta(days=90))
    pending_rows(conn)
    before = subscription(conn, tenant)
    result = apply(conn, FakeStripe(missing_customers=frozenset({CUSTOMER})), force=False)
    assert result is not None and result.state is None
    after = subscription(conn, tenant)
    [found] = after.drift_discrepancies
    assert (found["Kind"], found["Severity"], found["ExpectedValue"]) == (
        "CustomerMissingInStripe",
        "Critical",
        CUSTOMER,
    )
    assert after.has_drift_detected and after.drift_checked_at == NOW
    # Never read as "customer deleted": no reset, no suspension, no billing event, the events wait.
    assert (after.plan, after.stripe_subscription_id, after.current_price_amount) == (
        before.plan,
        before.stripe_subscription_id,
        before.current_price_amount,
    )
    assert (tenant_row(conn, tenant).state, count(conn, BillingEvent)) == ("Active", 0)
    assert [status for status, _, _ in statuses(conn)] == ["Pending", "Pending"]
    assert (
        conn.execute(
            select(func.count()).select_from(StripeEvent).where(StripeEvent.recovery_source.is_not(None))
        ).scalar_one()
        == 0
    )


# -- currencies ---------------------------------------------------------------------------


def test_a_customer_in_another_currency_leaves_no_row_in_that_currency(conn: Connection) -> None:
    """A customer object carries its own currency (the local emulator always
    says EUR); its rows carry the subscription's MRR, in the subscription's."""
    tenant = l_std(conn)
    updated = event(
        "customer.updated",
        id="evt_customer_in_eur",
        created=NOW - timedelta(minutes=2),
        obj={"object": "customer", "id": CUSTOMER, "currency": "eur", "name": "Renamed"},
        previous={"name": "Test Organization"},
        api_version=API_VERSION,
    )
    apply(conn, FakeStripe(extra_events=[updated]))
    [renamed] = rows(conn, tenant, T.BillingInfoUpdated)
    assert (renamed.currency, renamed.committed_mrr) == ("DKK", D("149.00"))
    assert {r.currency for r in rows(conn, tenant)} <= {"DKK", None}


def test_an_invoice_in_another_currency_fails_the_run_and_changes_nothing(conn: Connection) -> None:
    tenant = l_std(conn, subscribed_since=NOW - timedelta(days=90))
    renewal = event(
        "invoice.payment_succeeded",
        id="evt_renewal_in_eur",
        created=NOW - timedelta(minutes=2),
        obj={"customer": CUSTOMER, "currency": "eur", "billing_reason": "subscription_cycle"},
        api_version=API_VERSION,
    )
    before = subscription(conn, tenant)
    pending_rows(conn)
    raised = failing(conn, lambda: apply(conn, FakeStripe(extra_events=[renewal])), CurrencyMismatch)
    assert str(raised) == f"Stripe event evt_renewal_in_eur of {CUSTOMER} is in EUR, the platform currency is DKK"
    assert subscription(conn, tenant) == before and count(conn, BillingEvent) == 0
    assert [status for status, _, _ in statuses(conn)] == ["Pending", "Pending"]
