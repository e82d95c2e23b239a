"""The platform currency (docs/rules.md R39): catalog, else the single currency on
subscriptions, else none."""

from __future__ import annotations

from sqlalchemy import Connection

from core.currency import platform_currency
from tests import factories as f


def test_the_catalog_currency_wins(conn: Connection) -> None:
    f.tenant(conn, plan="Standard")  # priced in DKK

    assert platform_currency(conn, catalog_currency="eur") == "EUR"


def test_the_single_currency_on_subscriptions(conn: Connection) -> None:
    f.tenant(conn, plan="Standard")
    f.tenant(conn, plan="Premium")

    assert platform_currency(conn) == "DKK"


def test_none_when_subscriptions_disagree(conn: Connection) -> None:
    f.tenant(conn, plan="Standard")
    f.tenant(conn, plan="Premium", current_price_currency="EUR")

    assert platform_currency(conn) is None


def test_falls_back_to_the_invoices_when_no_subscription_has_a_price(conn: Connection) -> None:
    f.tenant(conn, plan="Basis", payment_transactions=[f.payment_transaction(currency="SEK")])

    assert platform_currency(conn) == "SEK"


def test_none_without_any_currency(conn: Connection) -> None:
    f.original_seed_tenant(conn)

    assert platform_currency(conn) is None
