"""The platform currency (docs/rules.md R39).

One currency for the whole platform, never converted: the Stripe price
catalog's when Stripe is configured, otherwise the single currency found on
subscriptions, otherwise none. Reports pass no catalog (a report must not call
Stripe).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# min = max on the current-price currency index: two index probes, and
# "several currencies" shows as min <> max.
_SUBSCRIPTION_CURRENCIES = text(
    "SELECT min(current_price_currency), max(current_price_currency)"
    " FROM subscriptions WHERE current_price_currency IS NOT NULL"
)

# When no subscription has a price left (every one cancelled), the invoices
# still say which currency the platform bills in.
_TRANSACTION_CURRENCIES = text(
    "SELECT min(t->>'Currency'), max(t->>'Currency')"
    " FROM subscriptions s, jsonb_array_elements(s.payment_transactions) AS t"
    " WHERE s.payment_transactions <> '[]'::jsonb"
)


def platform_currency(conn: Connection, catalog_currency: str | None = None) -> str | None:
    """ISO 4217 code of the platform currency, or None when there is none or
    when subscriptions disagree (no sum may mix currencies under one label)."""
    if catalog_currency:
        return catalog_currency.upper()
    for query in (_SUBSCRIPTION_CURRENCIES, _TRANSACTION_CURRENCIES):
        lowest, highest = conn.execute(query).one()
        if lowest is not None:
            return lowest if lowest == highest else None
    return None
