"""Stripe failures an operator can act on. Messages say what failed, never the key."""

from __future__ import annotations

from core.errors import OperatorError


class StripeUnavailable(OperatorError):
    """Stripe could not be asked: network error, timeout, 5xx after retries,
    refused key, or an answer we cannot use. Never means "no subscription"."""


class CustomerMissing(OperatorError):
    """Stripe answered that the customer does not exist (404). A finding about
    the tenant, recorded as drift: never an outage, never "customer deleted"."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"Stripe has no customer {customer_id}")
        self.customer_id = customer_id


class CurrencyMismatch(OperatorError):
    """A Stripe price or event is in another currency than the platform's: the
    sync stops instead of mixing currencies or treating it as "no subscription"."""

    def __init__(self, customer_id: str, found: str, platform: str, *, source: str | None = None) -> None:
        what = source or f"Stripe subscription of {customer_id} is priced"
        super().__init__(f"{what} in {found}, the platform currency is {platform}")
        self.customer_id = customer_id
        self.found = found
        self.platform = platform
