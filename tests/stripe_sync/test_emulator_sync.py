"""Sync end to end over the real Stripe client and SDK, against the local
emulator (localstripe): customer, legacy plans, subscription, invoice, charge,
deletion and the events list come from it. It never emits
customer.subscription.updated, so those arrive as recorded payloads stored
the way the webhook receiver stores them (fixtures/*.json)."""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from console.cli import main
from core.settings import Settings
from db.models import BillingEvent, Subscription, Tenant
from stripe_sync.errors import StripeUnavailable
from stripe_sync.sync import sync_tenant
from tests import factories
from tests.stripe_emulator import Emulator, free_port
from tests.stripe_sync.stripe_events import items, recorded


def next_second() -> None:
    """Let each step happen in a second of its own, as in life: events of one
    second are ordered by id, which would mix the steps up."""
    time.sleep(1 - time.time() % 1 + 0.01)


def store_pending(engine: Engine, customer: str, payload: dict[str, Any]) -> None:
    with engine.begin() as conn:
        factories.stripe_event(conn, payload, customer_id=customer)


def ledger(engine: Engine, tenant: factories.TenantRef) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(BillingEvent.__table__).where(BillingEvent.tenant_id == tenant.id)))


def local(engine: Engine, tenant: factories.TenantRef) -> tuple[Any, Any]:
    with engine.connect() as conn:
        subscription = conn.execute(
            select(Subscription.__table__).where(Subscription.id == tenant.subscription_id)
        ).one()
        owner = conn.execute(select(Tenant.__table__).where(Tenant.id == tenant.id)).one()
    return subscription, owner


def by_type(rows: list[Any], event_type: str) -> Any:
    [row] = [r for r in rows if r.event_type == event_type]
    return row


def test_a_subscription_lifecycle_synced_from_the_emulator(localstripe: Emulator, engine: Engine) -> None:
    localstripe.standard_catalog()
    customer = localstripe.customer_with_card(name="Acme ApS", email="billing@acme.test")
    subscription_id = localstripe.subscribe(customer)
    with engine.begin() as conn:
        tenant = factories.tenant(conn, plan="Basis", stripe_customer_id=customer)
    settings = Settings(stripe_api_key=localstripe.api_key, stripe_api_base=localstripe.url)

    first = sync_tenant(engine, settings, tenant.id)
    rows = ledger(engine, tenant)
    created = by_type(rows, "SubscriptionCreated")
    assert (created.to_plan, created.previous_amount, created.new_amount, created.currency) == (
        "Standard",
        0,
        Decimal("149.00"),
        "DKK",
    )
    assert by_type(rows, "BillingInfoAdded").stripe_reference == customer
    # The emulator's customers are in EUR whatever they are billed in: no row takes that.
    assert {r.currency for r in rows} == {"DKK"}
    assert first.billing_events_appended == len(rows) >= 2
    assert (first.has_drift_detected, first.drift_discrepancy_count) == (False, 0)
    row, owner = local(engine, tenant)
    assert (row.plan, row.current_price_amount, row.current_price_currency, row.stripe_subscription_id) == (
        "Standard",
        Decimal("149.00"),
        "DKK",
        subscription_id,
    )
    assert row.payment_method == {"Brand": "visa", "Last4": "4242", "ExpMonth": 12, "ExpYear": 2030}
    assert row.billing_info["Name"] == "Acme ApS" and [t["Status"] for t in row.payment_transactions] == ["Succeeded"]
    assert (owner.plan, owner.state, row.subscribed_since) == ("Standard", "Active", created.occurred_at)

    # An upgrade: the emulator changes the plan but emits no update event.
    next_second()
    item = localstripe.sdk.v1.subscriptions.retrieve(subscription_id)["items"]["data"][0]["id"]
    localstripe.sdk.v1.subscriptions.update(
        subscription_id, params={"items": [{"id": item, "plan": "premium_monthly"}]}
    )
    upgrade = recorded(
        "customer.subscription.updated.upgrade", id="evt_recorded_upgrade", created=int(time.time()), customer=customer
    )
    upgrade["data"]["object"]["items"] = items(plan("premium_monthly", 29900))
    upgrade["data"]["previous_attributes"]["items"] = items(plan("standard_monthly", 14900))
    store_pending(engine, customer, upgrade)
    second = sync_tenant(engine, settings, tenant.id)
    upgraded = by_type(ledger(engine, tenant), "SubscriptionUpgraded")
    assert (upgraded.from_plan, upgraded.to_plan, upgraded.previous_amount, upgraded.new_amount) == (
        "Standard",
        "Premium",
        Decimal("149.00"),
        Decimal("299.00"),
    )
    assert second.billing_events_appended == 1 and not second.has_drift_detected
    assert local(engine, tenant)[0].current_price_amount == Decimal("299.00")

    # Cancel at period end: the state comes from the emulator, the event from a recording.
    next_second()
    localstripe.sdk.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    cancel = recorded(
        "customer.subscription.updated.cancel", id="evt_recorded_cancel", created=int(time.time()), customer=customer
    )
    cancel["data"]["object"]["items"] = items(plan("premium_monthly", 29900))
    store_pending(engine, customer, cancel)
    third = sync_tenant(engine, settings, tenant.id)
    cancelled = by_type(ledger(engine, tenant), "SubscriptionCancelled")
    assert (
        cancelled.previous_amount,
        cancelled.new_amount,
        cancelled.committed_mrr,
        cancelled.cancellation_reason,
    ) == (
        Decimal("299.00"),
        0,
        0,
        "FoundAlternative",
    )
    assert (third.billing_events_appended, third.has_drift_detected) == (1, False)
    assert local(engine, tenant)[0].cancel_at_period_end is True

    # The period ends: the emulator deletes the subscription and lists the event.
    next_second()
    localstripe.sdk.v1.subscriptions.cancel(subscription_id)
    fourth = sync_tenant(engine, settings, tenant.id)
    expired = by_type(ledger(engine, tenant), "SubscriptionExpired")
    assert (expired.from_plan, expired.to_plan, expired.previous_amount, expired.new_amount) == (
        "Premium",
        "Basis",
        0,
        0,
    )
    row, owner = local(engine, tenant)
    assert (row.plan, row.stripe_subscription_id, row.current_price_amount, owner.plan, owner.state) == (
        "Basis",
        None,
        None,
        "Basis",
        "Active",
    )
    assert row.current_period_end is not None  # kept as the expiry date
    assert fourth.billing_events_appended == 1 and not fourth.has_drift_detected

    again = sync_tenant(engine, settings, tenant.id)
    assert again.billing_events_appended == 0
    ids = [r.stripe_event_id for r in ledger(engine, tenant)]
    assert len(ids) == len(set(ids))


def plan(plan_id: str, amount: int) -> dict[str, Any]:
    """A legacy Plan object, as the emulator's catalog has (it has no Prices)."""
    return {"id": plan_id, "object": "plan", "amount": amount, "currency": "dkk"}


def test_stripe_unreachable_fails_the_sync_and_keeps_the_paying_tenant(localstripe: Emulator, engine: Engine) -> None:
    localstripe.standard_catalog()
    customer = localstripe.customer_with_card(name="Acme ApS")
    localstripe.subscribe(customer)
    with engine.begin() as conn:
        tenant = factories.tenant(conn, plan="Basis", stripe_customer_id=customer)
    sync_tenant(engine, Settings(stripe_api_key=localstripe.api_key, stripe_api_base=localstripe.url), tenant.id)
    down = Settings(stripe_api_key=localstripe.api_key, stripe_api_base=f"http://127.0.0.1:{free_port()}")
    before = local(engine, tenant)
    with pytest.raises(StripeUnavailable, match="cannot reach Stripe"):
        sync_tenant(engine, down, tenant.id)
    assert local(engine, tenant) == before
    assert before[0].plan == "Standard"


def test_the_sync_command_against_the_emulator(
    localstripe: Emulator, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    localstripe.standard_catalog()
    customer = localstripe.customer_with_card(name="Acme ApS")
    localstripe.subscribe(customer)
    with engine.begin() as conn:
        tenant = factories.tenant(conn, plan="Basis", stripe_customer_id=customer)
    monkeypatch.setenv("STRIPE_API_KEY", localstripe.api_key)
    monkeypatch.setenv("STRIPE_API_BASE", localstripe.url)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "backoffice",
            "--database-url",
            engine.url.render_as_string(hide_password=False),
            "sync",
            str(tenant.id),
            "--json",
        ],
    )
    try:
        main()
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    result = json.loads(capsys.readouterr().out)
    assert result["tenant_id"] == str(tenant.id)
    assert result["billing_events_appended"] >= 2 and result["has_drift_detected"] is False
    assert result["drift_discrepancy_count"] == 0 and result["archived_events_awaiting_confirmation"] is None
    assert result["synced_at"].endswith("+00:00")
