"""The Stripe client: what the back office reads from Stripe, over the official SDK.

Every call either answers or raises `StripeUnavailable` (network error,
timeout, 5xx after retries, refused key); "no subscription" is only ever a
real answer from Stripe (decisions.md), and a customer Stripe does not know
raises `CustomerMissing`. The key is never logged or shown.

The pure helpers below (`transaction_from_invoice`, `plan_of_invoice`, ...)
turn Stripe-shaped dicts into the original's stored shapes; they are public so
recorded Stripe payloads can be checked without a server.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe

from core import ids
from core.errors import StripeNotConfigured
from core.jsonable import to_jsonable
from core.settings import Settings
from db.enums import CancellationReason, PaymentTransactionStatus, SubscriptionPlan
from stripe_sync.catalog import LOOKUP_KEYS, PriceCatalog, minor_to_major, plan_for_lookup_key
from stripe_sync.errors import CurrencyMismatch, CustomerMissing, StripeUnavailable
from stripe_sync.snapshots import CustomerSnapshot, EventsList, JsonObject, SubscriptionSnapshot

log = logging.getLogger(__name__)


CATALOG_TTL_SECONDS = 60.0
EVENTS_PAGE_SIZE = 100

# The event types the ledger reads from Stripe's events list (domain.md 4.4).
LEDGER_EVENT_TYPES: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "subscription_schedule.created",
    "subscription_schedule.updated",
    "subscription_schedule.released",
    "subscription_schedule.canceled",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "charge.refunded",
    "payment_method.attached",
)

# Objects whose `customer` field says whose event it is (domain.md 4.4).
_CUSTOMER_OWNED_OBJECTS = frozenset({"subscription", "subscription_schedule", "invoice", "charge", "payment_method"})

CANCELLATION_FEEDBACK: dict[str, CancellationReason] = {
    "too_expensive": CancellationReason.TooExpensive,
    "switched_service": CancellationReason.FoundAlternative,
    "unused": CancellationReason.NoLongerNeeded,
}

LINK_PAYMENT_METHOD: JsonObject = {"Brand": "link", "Last4": "****", "ExpMonth": 0, "ExpYear": 0}

_SECRET_PATTERN = re.compile(r"\b(sk|rk|pk|whsec)_[A-Za-z0-9_*]+")


class _RetryingHttpClient(stripe.RequestsClient):
    """The SDK retries connection errors, 409 and 5xx with exponential backoff;
    Stripe also asks clients to back off and retry on 429 (rate limited)."""

    def _should_retry(self, response: Any, api_connection_error: Any, num_retries: int, max_network_retries: Any) -> bool:
        if response is not None and response[1] == 429 and num_retries < (max_network_retries or 0):
            return True
        return super()._should_retry(response, api_connection_error, num_retries, max_network_retries)


class StripeClient:
    def __init__(self, api_key: str, api_base: str | None = None, *, timeout: float = 20, max_retries: int = 2) -> None:
        if not api_key:
            raise StripeNotConfigured()
        self._api_base = (api_base or stripe.DEFAULT_API_BASE).rstrip("/")
        self._test_mode = api_key.startswith(("sk_test_", "rk_test_"))
        self._sdk = stripe.StripeClient(
            api_key,
            base_addresses={"api": self._api_base},
            max_network_retries=max_retries,
            http_client=_RetryingHttpClient(timeout=timeout),
        )
        self._catalog: PriceCatalog | None = None
        self._catalog_loaded_at = 0.0

    def __repr__(self) -> str:
        return f"StripeClient(api_base={self._api_base!r})"

    # -- catalog -----------------------------------------------------------

    def price_catalog(self) -> PriceCatalog:
        """Prices by lookup key; legacy Plan objects where the API has no
        Prices. Cached for a minute; a failure is raised, never cached."""
        if self._catalog is not None and time.monotonic() - self._catalog_loaded_at < CATALOG_TTL_SECONDS:
            return self._catalog
        with self._stripe("listing prices"):
            try:
                listing = self._sdk.v1.prices.list(params={"lookup_keys": list(LOOKUP_KEYS), "active": True, "limit": 100})
                objects = [price.to_dict() for price in listing.data]
            except stripe.APIError as error:
                if error.http_status != 404:
                    raise
                objects = [plan.to_dict() for plan in self._sdk.v1.plans.list(params={"limit": 100}).auto_paging_iter()]
        self._catalog = PriceCatalog.from_stripe(objects)
        self._catalog_loaded_at = time.monotonic()
        return self._catalog

    # -- customer ----------------------------------------------------------

    def customer(self, customer_id: str) -> CustomerSnapshot:
        with self._stripe(f"reading customer {customer_id}", missing=CustomerMissing(customer_id)):
            customer = self._sdk.v1.customers.retrieve(
                customer_id, params={"expand": ["tax_ids", "invoice_settings.default_payment_method"]}
            ).to_dict()
        if customer.get("deleted"):
            return CustomerSnapshot(customer_id, deleted=True)
        default_method = self._payment_method_object(
            (customer.get("invoice_settings") or {}).get("default_payment_method"), customer_id
        )
        address_source = None
        if not _has_address(customer.get("address")):
            address_source = self._first_payment_method(customer_id)
        return CustomerSnapshot(
            customer_id,
            deleted=False,
            billing_info=billing_info_of(customer, address_source),
            payment_method=payment_method_of(default_method),
        )

    # -- subscription ------------------------------------------------------

    def subscription(
        self, customer_id: str, catalog: PriceCatalog, *, customer: CustomerSnapshot | None = None
    ) -> SubscriptionSnapshot | None:
        """The customer's live subscription, or None when Stripe lists none.
        Pass the `customer` snapshot already read to save a call when the
        subscription has no payment method of its own."""
        with self._stripe(f"listing subscriptions of {customer_id}"):
            listing = self._sdk.v1.subscriptions.list(params={"customer": customer_id, "limit": 1})
            if not listing.data:
                return None
            subscription = listing.data[0].to_dict()
        schedule = self._schedule_object(subscription.get("schedule"), customer_id)
        method = self._payment_method_object(subscription.get("default_payment_method"), customer_id)
        if method is not None:
            payment_method = payment_method_of(method)
        else:
            payment_method = (customer or self.customer(customer_id)).payment_method
        snapshot = subscription_snapshot(subscription, catalog, schedule=schedule, payment_method=payment_method)
        platform_currency = catalog.currency
        if platform_currency and snapshot.currency and snapshot.currency != platform_currency:
            raise CurrencyMismatch(customer_id, snapshot.currency, platform_currency)
        return snapshot

    # -- payment transactions ----------------------------------------------

    def payment_transactions(self, customer_id: str, catalog: PriceCatalog) -> list[JsonObject]:
        """The `payment_transactions` array rebuilt from the customer's invoices
        (first page of 100, newest first), with refunds and credit notes."""
        with self._stripe(f"listing invoices of {customer_id}"):
            invoices = self._invoices(customer_id)
            charges = [
                charge.to_dict()
                for charge in self._sdk.v1.charges.list(
                    params={"customer": customer_id, "limit": 100, "expand": ["data.refunds"]}
                ).data
            ]
            credit_notes = self._credit_notes(customer_id)
        now = datetime.now(UTC)
        return [transaction_from_invoice(invoice, charges, credit_notes, catalog, now=now) for invoice in invoices]

    def _invoices(self, customer_id: str) -> list[JsonObject]:
        params: dict[str, Any] = {"customer": customer_id, "limit": 100, "expand": ["data.payments"]}
        try:
            listing = self._sdk.v1.invoices.list(params=params)
        except stripe.InvalidRequestError as error:
            # Older APIs (and the emulator) have no invoice payments: the
            # invoice then names its charge directly.
            if "expand" not in str(error.user_message or ""):
                raise
            del params["expand"]
            listing = self._sdk.v1.invoices.list(params=params)
        return [invoice.to_dict() for invoice in listing.data]

    def _credit_notes(self, customer_id: str) -> list[JsonObject]:
        try:
            listing = self._sdk.v1.credit_notes.list(params={"customer": customer_id, "limit": 100})
        except stripe.APIError as error:
            if error.http_status == 404:  # an API without credit notes
                return []
            raise
        return [note.to_dict() for note in listing.data]

    # -- events ------------------------------------------------------------

    def list_events(self, customer_id: str, created_gte: datetime | None) -> EventsList:
        """The ledger's 14 event types for one customer, created at or after
        `created_gte` (inclusive), sorted by (created, id)."""
        listed = self.events(created_gte, types=LEDGER_EVENT_TYPES)
        mine = [event for event in listed.events if customer_of_event(event, strict=False) == customer_id]
        return EventsList(mine, listed.complete)

    def events(self, created_gte: datetime | None, *, types: Iterable[str] | None = None) -> EventsList:
        """Every event Stripe still lists (about 30 days), optionally of some
        types only, sorted by (created, id). A failure on the first page
        raises; a failure part-way returns what was read with complete=False."""
        wanted = frozenset(types) if types else None
        params: dict[str, Any] = {"limit": EVENTS_PAGE_SIZE}
        if created_gte is not None:
            params["created"] = {"gte": int(created_gte.timestamp())}
        if wanted:
            params["types"] = sorted(wanted)
        with self._stripe("listing events"):
            try:
                first_page = self._sdk.v1.events.list(params=params)
            except stripe.InvalidRequestError as error:
                # APIs without the `types` filter: filter here instead.
                if "types" not in params or "types" not in str(error.user_message or "").lower():
                    raise
                del params["types"]
                first_page = self._sdk.v1.events.list(params=params)
        events: dict[str, JsonObject] = {}
        complete = True
        pages = first_page.auto_paging_iter()
        while True:
            try:
                event = next(pages)
            except StopIteration:
                break
            except stripe.StripeError as error:
                log.warning("Stripe events list stopped part-way: %s", _safe_message(error))
                complete = False
                break
            data = event.to_dict()
            if wanted is None or data.get("type") in wanted:
                events[data["id"]] = data
        ordered = sorted(events.values(), key=lambda e: (int(e.get("created") or 0), str(e["id"])))
        return EventsList(ordered, complete)

    # -- links -------------------------------------------------------------

    def dashboard_url(self, customer_id: str) -> str | None:
        if not customer_id.startswith("cus_"):
            return None
        mode = "/test" if self._test_mode else ""
        return f"https://dashboard.stripe.com{mode}/customers/{customer_id}"

    # -- plumbing ----------------------------------------------------------

    def _payment_method_object(self, value: Any, customer_id: str) -> JsonObject | None:
        if isinstance(value, dict):
            return value
        if isinstance(value, str) and value:
            with self._stripe(f"reading payment method of {customer_id}"):
                return self._sdk.v1.payment_methods.retrieve(value).to_dict()
        return None

    def _first_payment_method(self, customer_id: str) -> JsonObject | None:
        with self._stripe(f"listing payment methods of {customer_id}"):
            listing = self._sdk.v1.payment_methods.list(params={"customer": customer_id, "type": "card", "limit": 1})
        return listing.data[0].to_dict() if listing.data else None

    def _schedule_object(self, value: Any, customer_id: str) -> JsonObject | None:
        if isinstance(value, dict):
            return value
        if isinstance(value, str) and value:
            with self._stripe(f"reading the subscription schedule of {customer_id}"):
                return self._sdk.v1.subscription_schedules.retrieve(value).to_dict()
        return None

    @contextmanager
    def _stripe(self, what: str, *, missing: CustomerMissing | None = None) -> Iterator[None]:
        """Turn SDK errors into one clear, key-free StripeUnavailable (the SDK
        error is not chained: it may carry request details); with `missing`, a
        "no such object" answer raises that instead."""
        try:
            yield
        except (stripe.AuthenticationError, stripe.PermissionError) as error:
            raise StripeUnavailable(f"Stripe refused the API key while {what}") from None
        except stripe.APIConnectionError as error:
            raise StripeUnavailable(f"cannot reach Stripe at {self._api_base} while {what}") from None
        except stripe.RateLimitError as error:
            raise StripeUnavailable(f"Stripe kept rate-limiting us while {what}") from None
        except stripe.StripeError as error:
            if missing is not None and _is_missing(error):
                raise missing from None
            status = f" (HTTP {error.http_status})" if error.http_status else ""
            raise StripeUnavailable(f"Stripe failed while {what}{status}: {_safe_message(error)}") from None


def _is_missing(error: stripe.StripeError) -> bool:
    """Stripe says the object does not exist. Not when it exists in the other
    mode: that is a wrong key for every customer, an outage of our own."""
    said_missing = error.http_status == 404 or error.code == "resource_missing"
    return said_missing and "similar object exists" not in str(error.user_message or "")


def _safe_message(error: stripe.StripeError) -> str:
    message = (error.user_message or str(error) or type(error).__name__).strip().splitlines()[0]
    return _SECRET_PATTERN.sub("[redacted]", message)[:200]


def client_from_settings(settings: Settings, *, timeout: float = 20, max_retries: int = 2) -> StripeClient:
    if not settings.stripe_api_key:
        raise StripeNotConfigured("Stripe is not configured: set STRIPE_API_KEY")
    return StripeClient(settings.stripe_api_key, settings.stripe_api_base, timeout=timeout, max_retries=max_retries)


# -- pure helpers over Stripe-shaped dicts ------------------------------------


def customer_of_event(event: Mapping[str, Any], *, strict: bool = True) -> str | None:
    """The customer an event belongs to (domain.md 4.2): `data.object.customer`
    when it is a string, else the object's id when it is a customer; values
    not starting with `cus_` count as none. With strict=False (events list,
    4.4) only the object kinds the ledger follows are considered."""
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, Mapping):
        return None
    kind = obj.get("object")
    candidate: Any = None
    if kind == "customer":
        candidate = obj.get("id")
    elif strict or kind in _CUSTOMER_OWNED_OBJECTS:
        candidate = obj.get("customer")
    if isinstance(candidate, str) and candidate.startswith("cus_") and len(candidate) > 4:
        return candidate
    return None


def payment_method_of(method: Mapping[str, Any] | None) -> JsonObject | None:
    """Card ⇒ brand/last4/expiry; Stripe Link ⇒ the fixed sentinel (never
    derived from the email); anything else ⇒ None."""
    if not method:
        return None
    kind = method.get("type")
    if kind == "card" and isinstance(method.get("card"), Mapping):
        card = method["card"]
        return {
            "Brand": card.get("brand"),
            "Last4": card.get("last4"),
            "ExpMonth": int(card.get("exp_month") or 0),
            "ExpYear": int(card.get("exp_year") or 0),
        }
    if kind == "link":
        return dict(LINK_PAYMENT_METHOD)
    return None


def _has_address(address: Any) -> bool:
    return isinstance(address, Mapping) and any(address.get(key) for key in ("line1", "line2", "postal_code", "city", "state", "country"))


def _address_of(address: Mapping[str, Any]) -> JsonObject:
    return {
        "Line1": address.get("line1"),
        "Line2": address.get("line2"),
        "PostalCode": address.get("postal_code"),
        "City": address.get("city"),
        "State": address.get("state"),
        "Country": address.get("country"),
    }


def billing_info_of(customer: Mapping[str, Any], payment_method: Mapping[str, Any] | None = None) -> JsonObject | None:
    """Name, address (the customer's; else the billing address of its first
    payment method, whose email also fills a missing email), email, first tax id."""
    email = customer.get("email")
    address = customer.get("address")
    if not _has_address(address) and payment_method:
        details = payment_method.get("billing_details") or {}
        address = details.get("address")
        email = email or details.get("email")
    tax_ids = (customer.get("tax_ids") or {}).get("data") or []
    info = {
        "Name": customer.get("name"),
        "Address": _address_of(address) if _has_address(address) else None,
        "Email": email,
        "TaxId": tax_ids[0].get("value") if tax_ids else None,
    }
    return info if any(value is not None for value in info.values()) else None


def _price_id(price: Any) -> str | None:
    if isinstance(price, Mapping):
        return price.get("id")
    return price if isinstance(price, str) else None


def plan_of_price(price: Any, catalog: PriceCatalog) -> SubscriptionPlan | None:
    """A Price (or legacy Plan) object or id: by catalog price id, then by
    product, then by its own lookup key; None when unknown."""
    plan = catalog.plan_for_price(_price_id(price))
    if plan is None and isinstance(price, Mapping):
        product = price.get("product")
        product_id = product.get("id") if isinstance(product, Mapping) else product
        plan = catalog.plan_for_product(product_id) or plan_for_lookup_key(price.get("lookup_key"))
    return plan


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value is not None else None


def subscription_snapshot(
    subscription: Mapping[str, Any],
    catalog: PriceCatalog,
    *,
    schedule: Mapping[str, Any] | None = None,
    payment_method: JsonObject | None = None,
) -> SubscriptionSnapshot:
    items = ((subscription.get("items") or {}).get("data")) or []
    item = items[0] if items else {}
    price = item.get("price") or item.get("plan") or subscription.get("plan")
    plan = (plan_of_price(price, catalog) if price else None) or SubscriptionPlan.Basis
    amount = None
    currency = None
    if isinstance(price, Mapping):
        amount = minor_to_major(price.get("unit_amount", price.get("amount")))
        currency = price.get("currency")
    currency = currency or subscription.get("currency")
    cancelling = bool(subscription.get("cancel_at_period_end"))
    details = subscription.get("cancellation_details") or {}
    return SubscriptionSnapshot(
        stripe_subscription_id=subscription["id"],
        plan=plan,
        scheduled_plan=scheduled_plan_of(schedule, plan, catalog),
        current_price_amount=amount,
        currency=currency.upper() if currency else None,
        current_period_end=_timestamp(item.get("current_period_end") or subscription.get("current_period_end")),
        cancel_at_period_end=cancelling,
        cancellation_reason=cancellation_reason_of(details.get("feedback")) if cancelling else None,
        cancellation_feedback=details.get("comment"),
        payment_method=payment_method,
        status=str(subscription.get("status") or ""),
    )


def scheduled_plan_of(
    schedule: Mapping[str, Any] | None, current: SubscriptionPlan, catalog: PriceCatalog
) -> SubscriptionPlan | None:
    """The plan of the first item of the schedule's last phase, when it differs."""
    phases = (schedule or {}).get("phases") or []
    if not phases:
        return None
    items = phases[-1].get("items") or []
    if not items:
        return None
    plan = plan_of_price(items[0].get("price") or items[0].get("plan"), catalog)
    return plan if plan is not None and plan != current else None


def cancellation_reason_of(feedback: str | None) -> CancellationReason:
    if not feedback:
        return CancellationReason.CancelledByAdmin
    return CANCELLATION_FEEDBACK.get(feedback, CancellationReason.Other)


def _line_price(line: Mapping[str, Any]) -> Any:
    pricing = line.get("pricing")
    if isinstance(pricing, Mapping):
        return (pricing.get("price_details") or {}).get("price")
    return line.get("price") or line.get("plan")


def plan_of_invoice(invoice: Mapping[str, Any], catalog: PriceCatalog) -> SubscriptionPlan | None:
    """The line with the largest positive amount decides (the first on ties),
    so an upgrade's proration credit for the old plan is ignored; with no
    positive line, the first line. Unknown or missing price ⇒ None."""
    lines = ((invoice.get("lines") or {}).get("data")) or []
    if not lines:
        return None
    deciding = lines[0]
    for line in lines:
        if int(line.get("amount") or 0) > 0 and int(line.get("amount") or 0) > int(deciding.get("amount") or 0):
            deciding = line
    price_id = _price_id(_line_price(deciding))
    return catalog.plan_for_price(price_id) if price_id else None


def invoice_amounts(invoice: Mapping[str, Any]) -> dict[str, Decimal | bool]:
    """Domain.md 7.8, in Decimal: total, paid, tax, ex-tax (clamped at 0), from
    credit. A stored element was clamped exactly when TaxAmount > InvoiceTotal."""
    total = _major(invoice.get("total"))
    paid = _major(invoice.get("amount_paid")) if invoice.get("status") == "paid" else total
    tax = _major(_tax_minor(invoice))
    raw_excluding_tax = total - tax
    return {
        "InvoiceTotal": total,
        "Amount": paid,
        "TaxAmount": tax,
        "AmountExcludingTax": max(Decimal("0.00"), raw_excluding_tax),
        "AmountFromCredit": max(Decimal("0.00"), total - paid),
        "clamped": raw_excluding_tax < 0,
    }


def _major(minor: Any) -> Decimal:
    return minor_to_major(int(minor or 0)) or Decimal("0.00")


def _tax_minor(invoice: Mapping[str, Any]) -> int:
    for key in ("total_taxes", "total_tax_amounts"):
        if isinstance(invoice.get(key), list):
            return sum(int(tax.get("amount") or 0) for tax in invoice[key])
    return int(invoice.get("tax") or 0)


def transaction_status(invoice_status: str | None, amount_paid: int, refunded: int) -> PaymentTransactionStatus:
    """Domain.md 7.9. A credit note alone leaves a paid invoice Succeeded."""
    if invoice_status == "paid":
        if amount_paid > 0 and refunded >= amount_paid:
            return PaymentTransactionStatus.Refunded
        return PaymentTransactionStatus.Succeeded
    return {
        "open": PaymentTransactionStatus.Pending,
        "uncollectible": PaymentTransactionStatus.Failed,
        "void": PaymentTransactionStatus.Cancelled,
    }.get(invoice_status or "", PaymentTransactionStatus.Pending)


def charge_of_invoice(invoice: Mapping[str, Any], charges: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The charge behind the invoice's first payment (invoice payments in
    current APIs; the invoice's own `charge` or payment intent in older ones)."""
    charge_ref: Any = None
    intent_ref: Any = None
    payments = ((invoice.get("payments") or {}).get("data")) or []
    if payments:
        payment = payments[0].get("payment") or {}
        charge_ref, intent_ref = payment.get("charge"), payment.get("payment_intent")
    else:
        charge_ref, intent_ref = invoice.get("charge"), invoice.get("payment_intent")
    if isinstance(charge_ref, Mapping):
        charge_ref = charge_ref.get("id")
    if isinstance(intent_ref, Mapping):
        intent_ref = intent_ref.get("id")
    charges = list(charges)
    for charge in charges:
        if charge_ref and charge.get("id") == charge_ref:
            return charge
    for charge in charges:
        if intent_ref and charge.get("payment_intent") == intent_ref:
            return charge
    for charge in charges:
        if charge.get("invoice") == invoice.get("id"):
            return charge
    if isinstance(invoice.get("charge"), Mapping):
        return invoice["charge"]
    return None


def _latest_refund_at(charge: Mapping[str, Any] | None) -> datetime | None:
    refunds = ((charge or {}).get("refunds") or {}).get("data") or []
    created = [int(refund["created"]) for refund in refunds if refund.get("created") is not None]
    return _timestamp(max(created)) if created else None


def transaction_from_invoice(
    invoice: Mapping[str, Any],
    charges: Iterable[Mapping[str, Any]],
    credit_notes: Iterable[Mapping[str, Any]],
    catalog: PriceCatalog,
    *,
    now: datetime,
) -> JsonObject:
    """One `payment_transactions` element (domain.md 1.9.1), money as JSON numbers."""
    amounts = invoice_amounts(invoice)
    if amounts["clamped"]:
        log.warning("invoice %s: tax exceeds the total, AmountExcludingTax clamped to 0", invoice.get("id"))
    charge = charge_of_invoice(invoice, charges)
    refunded = int((charge or {}).get("amount_refunded") or 0)
    status = transaction_status(invoice.get("status"), int(invoice.get("amount_paid") or 0), refunded)
    notes = [note for note in credit_notes if _id_of(note.get("invoice")) == invoice.get("id")]
    latest_note = max(notes, key=lambda note: int(note.get("created") or 0)) if notes else None
    created = _timestamp(invoice.get("created")) or now
    plan = plan_of_invoice(invoice, catalog)
    return to_jsonable(
        {
            "Id": ids.prefixed("pymnt", now),
            "Amount": amounts["Amount"],
            "AmountExcludingTax": amounts["AmountExcludingTax"],
            "TaxAmount": amounts["TaxAmount"],
            "Currency": str(invoice.get("currency") or "").upper(),
            "Status": status,
            "Date": created,
            "FailureReason": "Payment failed." if invoice.get("status") == "uncollectible" else None,
            "InvoiceUrl": invoice.get("invoice_pdf"),
            "CreditNoteUrl": latest_note.get("pdf") if latest_note else None,
            "Plan": plan,
            "RefundedAt": _latest_refund_at(charge),
            "InvoiceTotal": amounts["InvoiceTotal"],
            "AmountFromCredit": amounts["AmountFromCredit"],
            "CreditNotedAt": _timestamp(latest_note.get("created")) if latest_note else None,
        }
    )


def _id_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return value.get("id")
    return value if isinstance(value, str) else None

