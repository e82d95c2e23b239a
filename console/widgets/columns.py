"""How wide a list column has to be, from its type and the locale's formats,
never from the rows on screen (page_table.py `Column.width`): a date column
is as wide as the widest date its format writes, a money column as the widest
amount up to the data's known maximum, a badge column as its widest label.
Each is worked out once per locale."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

from console.formatting import ago, money, short_date, short_datetime, signed_money
from console.i18n import current_locale
from console.widgets.badges import event_badge, plan_label
from console.widgets.page_table import Cell, cell_width
from db.enums import BillingEventType, SubscriptionPlan

# The currencies an amount may come in: the width is the widest of them.
CURRENCIES = ("DKK", "EUR", "USD", "GBP", "SEK", "NOK")
# The known maxima: a plan's monthly price (the catalog's are 149 and 299) and
# one invoice (a month with VAT). A larger amount widens its column instead of
# being cut (Column.cut).
MAX_PRICE = Decimal("999.99")
MAX_INVOICE = Decimal("9999.99")
TENANT_ID_WIDTH = 19  # a bigint
PREFIXED_ID_WIDTH = 32  # "bilev_" and a 26-character ULID
STRIPE_INVOICE_ID_WIDTH = 27  # "in_" and Stripe's 24 characters
ARROW = " → "
_SAMPLE_NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
_DAYS = [datetime(2025, month, 28, hour, 59, tzinfo=UTC) for month in range(1, 13) for hour in (0, 10, 12, 23)]


def widest(cells: Iterable[Cell]) -> int:
    return max((cell_width(cell) for cell in cells), default=0)


def date_width() -> int:
    return _date_width(current_locale())


def datetime_width() -> int:
    return _datetime_width(current_locale())


def ago_width() -> int:
    """ "Just now", "59 minutes ago", "Yesterday", "5 days ago", or a date."""
    return _ago_width(current_locale())


def money_width(maximum: Decimal = MAX_PRICE) -> int:
    return _money_width(current_locale(), maximum)


def signed_money_width(maximum: Decimal = MAX_PRICE) -> int:
    return _signed_money_width(current_locale(), maximum)


def invoice_width() -> int:
    return money_width(MAX_INVOICE)


def mrr_width() -> int:
    """A price that changes at renewal: "DKK 299.00 → DKK 149.00"."""
    return 2 * money_width() + len(ARROW)


def event_width() -> int:
    return widest(event_badge(kind) for kind in BillingEventType)


def transition_width() -> int:
    """ "Standard → Premium"."""
    return 2 * widest(plan_label(plan) for plan in SubscriptionPlan) + len(ARROW)


@cache
def _date_width(locale: str) -> int:
    return widest(short_date(day) for day in _DAYS)


@cache
def _datetime_width(locale: str) -> int:
    return widest(short_datetime(day) for day in _DAYS)


@cache
def _ago_width(locale: str) -> int:
    elapsed = [timedelta(0)]
    elapsed += [timedelta(minutes=n) for n in (1, 2, 10, 59)]
    elapsed += [timedelta(hours=n) for n in (1, 2, 10, 23)]
    elapsed += [timedelta(days=n) for n in range(1, 6)]
    return max(widest(ago(_SAMPLE_NOW - delta, _SAMPLE_NOW) for delta in elapsed), _date_width(locale))


@cache
def _money_width(locale: str, maximum: Decimal) -> int:
    # Prices and invoices are not negative; a negative one widens its column (Column.cut).
    return widest(money(maximum, currency) for currency in CURRENCIES)


@cache
def _signed_money_width(locale: str, maximum: Decimal) -> int:
    return widest(signed_money(amount, currency) for currency in CURRENCIES for amount in (maximum, -maximum))
