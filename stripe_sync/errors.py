"""Stripe failures an operator can act on. Messages say what failed, never the key."""

from __future__ import annotations

from core.errors import OperatorError


class StripeUnavailable(OperatorError):
    """Stripe could not be asked: network error, timeout, 5xx after retries,
    refused key, or an answer we cannot use. Never means "no subscription"."""


class CurrencyMismatch(OperatorError):
    """A Stripe price is in another currency than the platform's: the sync
    stops instead of mixing currencies or treating it as "no subscription"."""

    def __init__(self, customer_id: str, found: str, platform: str) -> None:
        super().__init__(
            f"Stripe subscription of {customer_id} is priced in {found}, the platform currency is {platform}"
        )
        self.customer_id = customer_id
        self.found = found
        self.platform = platform
