"""The SDK wiring against the local emulator (every call localstripe supports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from db.enums import CancellationReason, SubscriptionPlan
from stripe_sync.errors import CurrencyMismatch
from tests.stripe_emulator import Emulator

ADDRESS = {"line1": "Vestergade 12", "postal_code": "1456", "city": "København K", "country": "DK"}


def test_legacy_plans_make_the_catalog_when_the_api_has_no_prices(localstripe: Emulator) -> None:
    products = localstripe.standard_catalog()
    catalog = localstripe.client().price_catalog()
    assert catalog.plan_for_price("standard_monthly") is SubscriptionPlan.Standard
    assert catalog.plan_for_product(products["premium_monthly"]) is SubscriptionPlan.Premium
    assert catalog.price_of(SubscriptionPlan.Standard) == Decimal("149.00")
    assert catalog.price_of(SubscriptionPlan.Premium) == Decimal("299.00")
    assert catalog.currency == "DKK"


def test_catalog_is_cached_for_a_minute(localstripe: Emulator) -> None:
    client = localstripe.client()
    localstripe.standard_catalog()
    first = client.price_catalog()
    localstripe.reset()
    assert client.price_catalog() is first


def test_customer_billing_info_and_card(localstripe: Emulator) -> None:
    customer_id = localstripe.customer_with_card(name="Acme ApS", email="billing@acme.dk", address=ADDRESS)
    snapshot = localstripe.client().customer(customer_id)
    assert snapshot.deleted is False
    assert snapshot.billing_info == {
        "Name": "Acme ApS",
        "Address": {
            "Line1": "Vestergade 12",
            "Line2": None,
            "PostalCode": "1456",
            "City": "København K",
            "State": None,
            "Country": "DK",
        },
        "Email": "billing@acme.dk",
        "TaxId": None,
    }
    assert snapshot.payment_method == {"Brand": "visa", "Last4": "4242", "ExpMonth": 12, "ExpYear": 2030}


def test_customer_without_anything_has_no_billing_info(localstripe: Emulator) -> None:
    customer_id = str(localstripe.sdk.v1.customers.create(params={}).id)
    snapshot = localstripe.client().customer(customer_id)
    assert snapshot.billing_info is None
    assert snapshot.payment_method is None


def test_subscription_snapshot_follows_plan_change_and_cancel_at_period_end(localstripe: Emulator) -> None:
    localstripe.standard_catalog()
    customer_id = localstripe.customer_with_card(name="Acme", address=ADDRESS)
    subscription_id = localstripe.subscribe(customer_id)
    client = localstripe.client()
    catalog = client.price_catalog()

    created = client.subscription(customer_id, catalog)
    assert created is not None
    assert created.stripe_subscription_id == subscription_id
    assert (created.plan, created.current_price_amount, created.currency) == (
        SubscriptionPlan.Standard,
        Decimal("149.00"),
        "DKK",
    )
    assert created.status == "active"
    assert created.cancel_at_period_end is False and created.cancellation_reason is None
    assert created.scheduled_plan is None
    assert created.payment_method == {"Brand": "visa", "Last4": "4242", "ExpMonth": 12, "ExpYear": 2030}
    assert created.current_period_end is not None
    assert timedelta(days=27) < created.current_period_end - datetime.now(UTC) < timedelta(days=32)

    item_id = localstripe.sdk.v1.subscriptions.retrieve(subscription_id)["items"].data[0].id
    localstripe.sdk.v1.subscriptions.update(
        subscription_id, params={"items": [{"id": item_id, "plan": "premium_monthly"}]}
    )
    upgraded = client.subscription(customer_id, catalog)
    assert upgraded is not None
    assert (upgraded.plan, upgraded.current_price_amount) == (SubscriptionPlan.Premium, Decimal("299.00"))

    localstripe.sdk.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    cancelling = client.subscription(customer_id, catalog)
    assert cancelling is not None
    assert cancelling.cancel_at_period_end is True
    # No cancellation feedback at Stripe: cancelled by an admin.
    assert cancelling.cancellation_reason is CancellationReason.CancelledByAdmin


def test_no_live_subscription_is_none(localstripe: Emulator) -> None:
    localstripe.standard_catalog()
    customer_id = localstripe.customer_with_card()
    client = localstripe.client()
    catalog = client.price_catalog()
    assert client.subscription(customer_id, catalog) is None
    subscription_id = localstripe.subscribe(customer_id)
    localstripe.sdk.v1.subscriptions.cancel(subscription_id)
    assert client.subscription(customer_id, catalog) is None


def test_price_in_another_currency_is_a_mismatch_not_no_subscription(localstripe: Emulator) -> None:
    localstripe.standard_catalog(currency="dkk")
    product = localstripe.sdk.v1.products.create(params={"name": "Euro", "type": "service"})
    localstripe.sdk.v1.plans.create(
        params={"id": "euro_plan", "product": product.id, "amount": 1000, "currency": "eur", "interval": "month"}
    )
    customer_id = localstripe.customer_with_card()
    localstripe.subscribe(customer_id, "euro_plan")
    client = localstripe.client()
    with pytest.raises(CurrencyMismatch, match="EUR, the platform currency is DKK"):
        client.subscription(customer_id, client.price_catalog())


def test_invoices_become_payment_transactions_and_a_full_refund_is_refunded(localstripe: Emulator) -> None:
    localstripe.standard_catalog()
    customer_id = localstripe.customer_with_card()
    localstripe.subscribe(customer_id)
    client = localstripe.client()
    catalog = client.price_catalog()

    [paid] = client.payment_transactions(customer_id, catalog)
    assert paid["Status"] == "Succeeded"
    assert (
        paid["Amount"],
        paid["InvoiceTotal"],
        paid["TaxAmount"],
        paid["AmountExcludingTax"],
        paid["AmountFromCredit"],
    ) == (149.0, 149.0, 0.0, 149.0, 0.0)
    assert paid["Currency"] == "DKK" and paid["Plan"] == "Standard"
    assert paid["Id"].startswith("pymnt_") and paid["RefundedAt"] is None

    charge = localstripe.sdk.v1.charges.list(params={"customer": customer_id}).data[0]
    localstripe.sdk.v1.refunds.create(params={"charge": charge.id, "amount": 5000})
    [partly] = client.payment_transactions(customer_id, catalog)
    assert partly["Status"] == "Succeeded"  # a partial refund keeps the row Succeeded, with RefundedAt set
    assert partly["RefundedAt"] is not None

    localstripe.sdk.v1.refunds.create(params={"charge": charge.id, "amount": 9900})
    [refunded] = client.payment_transactions(customer_id, catalog)
    assert refunded["Status"] == "Refunded"


def test_events_list_pages_filters_by_customer_and_sorts(localstripe: Emulator) -> None:
    localstripe.standard_catalog()
    mine = localstripe.customer_with_card()
    other = localstripe.customer_with_card()
    localstripe.subscribe(mine)
    localstripe.subscribe(other)
    client = localstripe.client()

    listed = client.list_events(mine, None)
    assert listed.complete
    types = [event["type"] for event in listed.events]
    assert {"customer.created", "customer.subscription.created", "invoice.payment_succeeded"} <= set(types)
    assert "plan.created" not in types and "invoice.created" not in types  # not one of the 14 ledger types
    assert all(
        event["data"]["object"].get("customer", event["data"]["object"]["id"]) == mine for event in listed.events
    )
    keys = [(event["created"], event["id"]) for event in listed.events]
    assert keys == sorted(keys)

    everything = client.events(None)
    assert len(everything.events) > len(listed.events)
    assert len({event["id"] for event in everything.events}) == len(everything.events)

    later = client.list_events(mine, datetime.now(UTC) + timedelta(minutes=5))
    assert later.events == [] and later.complete


def test_events_auto_paging_reads_every_page(localstripe: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(7):
        localstripe.sdk.v1.customers.create(params={"name": f"c{index}"})
    monkeypatch.setattr("stripe_sync.client.EVENTS_PAGE_SIZE", 3)
    listed = localstripe.client().events(None, types=["customer.created"])
    assert sorted(event["data"]["object"]["name"] for event in listed.events) == [f"c{index}" for index in range(7)]
    assert listed.complete


def test_dashboard_url_points_at_the_test_dashboard(localstripe: Emulator) -> None:
    assert localstripe.client().dashboard_url("cus_123") == "https://dashboard.stripe.com/test/customers/cus_123"
