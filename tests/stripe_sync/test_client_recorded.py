"""The client over recorded Stripe payloads: what localstripe cannot emulate
(Prices by lookup key, subscription schedules, invoice payments, proration
lines, credit notes) and failure modes (5xx, 429, refused key, no server)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.errors import StripeNotConfigured
from core.settings import Settings
from db.enums import CancellationReason, SubscriptionPlan
from stripe_sync.catalog import PriceCatalog
from stripe_sync.client import StripeClient, client_from_settings
from stripe_sync.errors import CustomerMissing, StripeUnavailable
from tests.stripe_emulator import free_port
from tests.stripe_sync.recorded_stripe import RecordedStripe, fixture, stripe_error

KEY = "sk_test_recorded_0123456789"


def _client(server: RecordedStripe, **kwargs: object) -> StripeClient:
    return StripeClient(KEY, server.url, **{"timeout": 5, "max_retries": 0, **kwargs})  # type: ignore[arg-type]


def _arrange_nordlys(server: RecordedStripe) -> None:
    server.answer("GET /v1/prices", fixture("prices.json"))
    server.answer("GET /v1/customers/cus_nordlys", fixture("customer_nordlys.json"))
    server.answer("GET /v1/payment_methods", fixture("payment_methods_nordlys.json"))
    server.answer("GET /v1/payment_methods/pm_card", fixture("payment_method_card.json"))
    server.answer("GET /v1/subscriptions?customer=cus_nordlys", fixture("subscriptions_nordlys.json"))
    server.answer("GET /v1/subscription_schedules/sub_sched_nordlys", fixture("subscription_schedule_nordlys.json"))
    server.answer("GET /v1/invoices", fixture("invoices_nordlys.json"))
    server.answer("GET /v1/charges", fixture("charges_nordlys.json"))
    server.answer("GET /v1/credit_notes", fixture("credit_notes_nordlys.json"))


def test_catalog_from_prices_by_lookup_key(recorded_stripe: RecordedStripe) -> None:
    _arrange_nordlys(recorded_stripe)
    catalog = _client(recorded_stripe).price_catalog()
    assert catalog.plan_for_price("price_standard") is SubscriptionPlan.Standard
    assert catalog.plan_for_product("prod_premium") is SubscriptionPlan.Premium
    assert (catalog.price_of("Standard"), catalog.price_of("Premium"), catalog.currency) == (
        Decimal("149.00"),
        Decimal("299.00"),
        "DKK",
    )
    [(_, _, query)] = recorded_stripe.requests
    assert sorted(query["lookup_keys[0]"] + query["lookup_keys[1]"]) == ["premium_monthly", "standard_monthly"]
    assert recorded_stripe.calls("/v1/plans") == 0


def test_customer_address_falls_back_to_the_first_payment_method_and_link_is_a_sentinel(
    recorded_stripe: RecordedStripe,
) -> None:
    _arrange_nordlys(recorded_stripe)
    snapshot = _client(recorded_stripe).customer("cus_nordlys")
    assert snapshot.billing_info == {
        "Name": "Nordlys ApS",
        "Address": {
            "Line1": "Åboulevarden 1",
            "Line2": "2. sal",
            "PostalCode": "8000",
            "City": "Aarhus C",
            "State": None,
            "Country": "DK",
        },
        "Email": "finance@nordlys.dk",
        "TaxId": "DK12345678",
    }
    # The default method is Stripe Link: never derived from its email.
    assert snapshot.payment_method == {"Brand": "link", "Last4": "****", "ExpMonth": 0, "ExpYear": 0}


def test_deleted_customer(recorded_stripe: RecordedStripe) -> None:
    recorded_stripe.answer("GET /v1/customers/cus_gone", fixture("customer_deleted.json"))
    snapshot = _client(recorded_stripe).customer("cus_gone")
    assert snapshot.deleted is True and snapshot.billing_info is None and snapshot.payment_method is None


def test_subscription_with_a_scheduled_downgrade(recorded_stripe: RecordedStripe) -> None:
    _arrange_nordlys(recorded_stripe)
    client = _client(recorded_stripe)
    snapshot = client.subscription("cus_nordlys", client.price_catalog())
    assert snapshot is not None
    assert (snapshot.stripe_subscription_id, snapshot.plan, snapshot.scheduled_plan) == (
        "sub_nordlys",
        SubscriptionPlan.Premium,
        SubscriptionPlan.Standard,
    )
    assert (snapshot.current_price_amount, snapshot.currency, snapshot.status) == (Decimal("299.00"), "DKK", "active")
    assert snapshot.current_period_end == datetime(2026, 6, 1, tzinfo=UTC)  # the item's period end
    assert snapshot.cancel_at_period_end is False and snapshot.cancellation_reason is None
    # The subscription's own default method wins over the customer's Link.
    assert snapshot.payment_method == {"Brand": "mastercard", "Last4": "4444", "ExpMonth": 3, "ExpYear": 2029}


def test_cancelling_subscription_maps_feedback_and_falls_back_to_the_customer_method(
    recorded_stripe: RecordedStripe,
) -> None:
    _arrange_nordlys(recorded_stripe)
    recorded_stripe.answer("GET /v1/subscriptions?customer=cus_cancelling", fixture("subscriptions_cancelling.json"))
    recorded_stripe.answer("GET /v1/customers/cus_cancelling", fixture("customer_cancelling.json"))
    client = _client(recorded_stripe)
    snapshot = client.subscription("cus_cancelling", client.price_catalog())
    assert snapshot is not None
    assert snapshot.cancel_at_period_end is True
    assert snapshot.cancellation_reason is CancellationReason.TooExpensive
    assert snapshot.cancellation_feedback == "We found it too pricey for our team size."
    assert snapshot.status == "past_due" and snapshot.payment_method is None and snapshot.scheduled_plan is None


def test_payment_transactions_from_recorded_invoices(recorded_stripe: RecordedStripe) -> None:
    _arrange_nordlys(recorded_stripe)
    client = _client(recorded_stripe)
    transactions = {
        t["InvoiceUrl"] or t["Date"]: t for t in client.payment_transactions("cus_nordlys", client.price_catalog())
    }
    assert len(transactions) == 7
    proration = transactions["https://pay.stripe.com/invoice/acct_1/in_proration/pdf"]
    assert proration["Plan"] == "Premium"  # the largest positive line decides
    assert proration["Status"] == "Refunded"  # charge found through the invoice payment's payment intent
    assert proration["RefundedAt"] == "2026-05-03T09:20:00+00:00"  # the latest refund
    assert (
        proration["Amount"],
        proration["AmountExcludingTax"],
        proration["TaxAmount"],
        proration["InvoiceTotal"],
    ) == (184.4, 147.52, 36.88, 184.4)

    credit = transactions["https://pay.stripe.com/invoice/acct_1/in_credit_balance/pdf"]
    assert (
        credit["Amount"],
        credit["AmountExcludingTax"],
        credit["TaxAmount"],
        credit["InvoiceTotal"],
        credit["AmountFromCredit"],
    ) == (0.0, 64.45, 16.11, 80.56, 80.56)
    assert credit["Status"] == "Succeeded"

    created = transactions["https://pay.stripe.com/invoice/acct_1/in_create/pdf"]
    assert created["Status"] == "Succeeded"  # a credit note alone does not refund
    assert created["CreditNoteUrl"] == "https://pay.stripe.com/credit_notes/acct_1/cn_later/pdf"
    assert created["CreditNotedAt"] == datetime.fromtimestamp(1769500000, UTC).isoformat()
    assert (created["Plan"], created["Currency"], created["Date"]) == ("Standard", "DKK", "2026-01-01T00:00:00+00:00")
    assert created["StripeInvoiceId"] == "in_create"  # Stripe's id, for its dashboard link (R120)

    uncollectible = transactions["https://pay.stripe.com/invoice/acct_1/in_uncollectible/pdf"]
    assert (uncollectible["Status"], uncollectible["FailureReason"], uncollectible["Amount"]) == (
        "Failed",
        "Payment failed.",
        186.25,
    )

    by_status = sorted(t["Status"] for t in transactions.values())
    assert by_status == ["Cancelled", "Failed", "Pending", "Refunded", "Succeeded", "Succeeded", "Succeeded"]
    clamped = next(t for t in transactions.values() if t["InvoiceTotal"] == 0)
    assert (clamped["AmountExcludingTax"], clamped["TaxAmount"], clamped["Plan"]) == (0.0, 16.11, None)
    assert all(t["AmountExcludingTax"] >= 0 and t["AmountFromCredit"] >= 0 for t in transactions.values())
    [(_, _, invoice_query)] = [r for r in recorded_stripe.requests if r[1] == "/v1/invoices"]
    assert invoice_query["expand[0]"] == ["data.payments"]


def test_events_list_keeps_the_ledger_types_of_one_customer_in_created_then_id_order(
    recorded_stripe: RecordedStripe,
) -> None:
    recorded_stripe.answer("GET /v1/events", fixture("events_page.json"))
    listed = _client(recorded_stripe).list_events("cus_nordlys", datetime(2026, 1, 1, tzinfo=UTC))
    assert listed.complete
    assert [event["id"] for event in listed.events] == [
        "evt_pm_attached",
        "evt_customer_updated",
        "evt_refund",
        "evt_A_subscription",
        "evt_B_schedule",
    ]
    [(_, _, query)] = recorded_stripe.requests
    assert query["created[gte]"] == ["1767225600"]
    assert "customer.subscription.updated" in [
        value for key, values in query.items() if key.startswith("types[") for value in values
    ]


def test_events_list_failing_part_way_is_partial(recorded_stripe: RecordedStripe) -> None:
    first_page = {**fixture("events_page.json"), "has_more": True}

    def events(query: dict[str, list[str]]) -> tuple[int, object]:
        return stripe_error(500, "boom", "api_error") if "starting_after" in query else (200, first_page)

    recorded_stripe.answer("GET /v1/events", events)
    listed = _client(recorded_stripe).list_events("cus_nordlys", None)
    assert listed.complete is False
    assert len(listed.events) == 5  # what was read is kept


def test_events_list_failing_on_the_first_page_raises(recorded_stripe: RecordedStripe) -> None:
    recorded_stripe.answer("GET /v1/events", stripe_error(500, "boom", "api_error"))
    with pytest.raises(StripeUnavailable, match=r"listing events \(HTTP 500\)"):
        _client(recorded_stripe).list_events("cus_nordlys", None)


def test_5xx_is_retried_with_backoff_then_succeeds(recorded_stripe: RecordedStripe) -> None:
    recorded_stripe.answer(
        "GET /v1/prices",
        stripe_error(500, "boom", "api_error"),
        stripe_error(503, "busy", "api_error"),
        fixture("prices.json"),
    )
    catalog = _client(recorded_stripe, max_retries=2).price_catalog()
    assert catalog.currency == "DKK"
    assert recorded_stripe.calls("/v1/prices") == 3


def test_429_is_retried(recorded_stripe: RecordedStripe) -> None:
    recorded_stripe.answer(
        "GET /v1/prices", stripe_error(429, "Too many requests", "rate_limit_error"), fixture("prices.json")
    )
    assert _client(recorded_stripe, max_retries=1).price_catalog().currency == "DKK"
    assert recorded_stripe.calls("/v1/prices") == 2


def test_5xx_after_the_retries_is_unavailable(recorded_stripe: RecordedStripe) -> None:
    recorded_stripe.answer("GET /v1/customers/cus_x", stripe_error(500, "boom", "api_error"))
    with pytest.raises(StripeUnavailable, match=r"reading customer cus_x \(HTTP 500\)"):
        _client(recorded_stripe, max_retries=1).customer("cus_x")
    assert recorded_stripe.calls("/v1/customers/cus_x") == 2


def test_refused_key_is_unavailable_without_the_key(recorded_stripe: RecordedStripe) -> None:
    recorded_stripe.answer(
        "GET /v1/subscriptions", stripe_error(401, f"Invalid API Key provided: {KEY}", "invalid_request_error")
    )
    with pytest.raises(StripeUnavailable) as raised:
        _client(recorded_stripe).subscription("cus_x", PriceCatalog())
    assert "refused the API key" in str(raised.value)
    assert KEY not in str(raised.value) and "sk_test" not in str(raised.value)
    assert raised.value.__cause__ is None


def test_an_error_message_quoting_a_key_is_redacted(recorded_stripe: RecordedStripe) -> None:
    recorded_stripe.answer("GET /v1/customers/cus_x", stripe_error(400, f"No such customer for key {KEY}"))
    with pytest.raises(StripeUnavailable) as raised:
        _client(recorded_stripe).customer("cus_x")
    assert KEY not in str(raised.value) and "[redacted]" in str(raised.value)


def test_unknown_customer_is_missing_never_unavailable_or_deleted(recorded_stripe: RecordedStripe) -> None:
    recorded_stripe.answer("GET /v1/customers/cus_missing", stripe_error(404, "No such customer: 'cus_missing'"))
    with pytest.raises(CustomerMissing, match="Stripe has no customer cus_missing") as raised:
        _client(recorded_stripe).customer("cus_missing")
    assert not isinstance(raised.value, StripeUnavailable)


def test_a_customer_of_the_other_mode_is_a_wrong_key_not_a_missing_customer(recorded_stripe: RecordedStripe) -> None:
    message = "No such customer: 'cus_live'; a similar object exists in live mode, but a test mode key was used to make this request."
    recorded_stripe.answer(
        "GET /v1/customers/cus_live",
        (404, {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": message}}),
    )
    with pytest.raises(StripeUnavailable, match="similar object exists in live mode"):
        _client(recorded_stripe).customer("cus_live")


def test_resource_missing_elsewhere_stays_unavailable(recorded_stripe: RecordedStripe) -> None:
    """Only the customer read knows what a 404 means: elsewhere it is an unusable answer."""
    recorded_stripe.answer("GET /v1/subscriptions", stripe_error(404, "No such customer: 'cus_x'"))
    with pytest.raises(StripeUnavailable, match=r"HTTP 404"):
        _client(recorded_stripe).subscription("cus_x", PriceCatalog())


def test_unreachable_stripe_fails_fast_and_clearly() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(StripeUnavailable, match=f"cannot reach Stripe at {base} while listing subscriptions of cus_x"):
        StripeClient(KEY, base, timeout=1, max_retries=0).subscription("cus_x", PriceCatalog())
    assert time.monotonic() - started < 3


def test_client_needs_a_key() -> None:
    with pytest.raises(StripeNotConfigured):
        client_from_settings(Settings())
    client = client_from_settings(Settings(stripe_api_key="sk_live_x"))
    assert client.dashboard_url("cus_1") == "https://dashboard.stripe.com/customers/cus_1"
    assert "sk_live" not in repr(client)
