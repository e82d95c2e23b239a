"""The Stripe client: what the back office reads from Stripe, over the official SDK.

Every call either answers or raises `StripeUnavailable` (network error,
timeout, 5xx after retries, refused key); "no subscription" is only ever a
real answer from Stripe (docs/rules.md R60), and a customer Stripe does not know
raises `CustomerMissing`. The key is never logged or shown.

The mapping of Stripe objects to stored shapes is in `stripe_sync/stripe_mapping.py`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import stripe
from stripe.params import EventListParams, InvoiceListParams

from core.errors import StripeNotConfigured
from core.settings import Settings
from stripe_sync.catalog import LOOKUP_KEYS, PriceCatalog
from stripe_sync.errors import CurrencyMismatch, CustomerMissing, StripeUnavailable
from stripe_sync.snapshots import CustomerSnapshot, EventsList, JsonObject, SubscriptionSnapshot
from stripe_sync.stripe_mapping import (
    billing_info_of,
    customer_of_event,
    has_address,
    payment_method_of,
    subscription_snapshot,
    transaction_from_invoice,
)

log = logging.getLogger(__name__)


CATALOG_TTL_SECONDS = 60.0
EVENTS_PAGE_SIZE = 100

# The event types the ledger reads from Stripe's events list (docs/rules.md R6).
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

_SECRET_PATTERN = re.compile(r"\b(sk|rk|pk|whsec)_[A-Za-z0-9_*]+")


class _RetryingHttpClient(stripe.RequestsClient):
    """The SDK retries connection errors, 409 and 5xx with exponential backoff;
    Stripe also asks clients to back off and retry on 429 (rate limited)."""

    def _should_retry(
        self, response: Any, api_connection_error: Any, num_retries: int, max_network_retries: Any
    ) -> bool:
        if response is not None and response[1] == 429 and num_retries < (max_network_retries or 0):
            return True
        return bool(super()._should_retry(response, api_connection_error, num_retries, max_network_retries))


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
                listing = self._sdk.v1.prices.list(
                    params={"lookup_keys": list(LOOKUP_KEYS), "active": True, "limit": 100}
                )
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
        if not has_address(customer.get("address")):
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
        params: InvoiceListParams = {"customer": customer_id, "limit": 100, "expand": ["data.payments"]}
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
        params: EventListParams = {"limit": EVENTS_PAGE_SIZE}
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
        except (stripe.AuthenticationError, stripe.PermissionError):
            raise StripeUnavailable(f"Stripe refused the API key while {what}") from None
        except stripe.APIConnectionError:
            raise StripeUnavailable(f"cannot reach Stripe at {self._api_base} while {what}") from None
        except stripe.RateLimitError:
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
