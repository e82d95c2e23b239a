"""payment_transaction_rows: the JSON array of each subscription, one row per
element, kept in step by a trigger (migration 0004)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Connection, delete, text

from core import money
from db.models import Subscription
from tests import factories as f
from tests.factories import NOW

D = Decimal


def rows(conn: Connection, tenant: f.TenantRef) -> list:
    return conn.execute(
        text(
            "SELECT position, transaction_id, date, status, amount, amount_excluding_tax, currency, plan,"
            " counts_as_revenue, added_on, reversed_on"
            " FROM payment_transaction_rows WHERE subscription_id = :id ORDER BY position"
        ),
        {"id": tenant.subscription_id},
    ).all()


def test_rows_follow_the_array_on_insert_update_and_delete(conn: Connection) -> None:
    paid = f.payment_transaction(date=NOW - timedelta(days=3))
    acme = f.tenant(conn, plan="Standard", payment_transactions=[paid])
    assert [(r.transaction_id, r.amount, r.amount_excluding_tax, r.currency, r.plan) for r in rows(conn, acme)] == [
        (paid["Id"], D("186.25"), D("149.00"), "DKK", "Standard")
    ]

    refunded = f.payment_transaction(
        date=NOW - timedelta(days=5), status="Refunded", RefundedAt=(NOW - timedelta(days=1)).isoformat()
    )
    f.set_payment_transactions(conn, acme.id, [paid, refunded])
    assert [(r.position, r.status) for r in rows(conn, acme)] == [(1, "Succeeded"), (2, "Refunded")]

    f.set_payment_transactions(conn, acme.id, [])
    assert rows(conn, acme) == []

    f.set_payment_transactions(conn, acme.id, [paid])
    conn.execute(delete(Subscription).where(Subscription.tenant_id == acme.id))
    assert rows(conn, acme) == []


def test_rows_carry_the_revenue_rules(conn: Connection) -> None:
    transactions = [
        f.payment_transaction(date=NOW - timedelta(days=9)),
        f.payment_transaction(date=NOW - timedelta(days=8), status="Failed"),
        f.payment_transaction(
            date=NOW - timedelta(days=7), status="Refunded", RefundedAt=(NOW - timedelta(days=2)).isoformat()
        ),
        f.payment_transaction(date=NOW - timedelta(days=6), CreditNoteUrl="https://cn"),
        f.payment_transaction(
            date=NOW - timedelta(days=5),
            CreditNoteUrl="https://cn",
            CreditNotedAt=(NOW - timedelta(days=1)).isoformat(),
        ),
        f.payment_transaction(date=NOW - timedelta(days=4), status="Cancelled", CreditNoteUrl="https://cn"),
    ]
    acme = f.tenant(conn, plan="Standard", payment_transactions=transactions)

    day = lambda days: NOW.date() - timedelta(days=days)  # noqa: E731
    assert [(r.counts_as_revenue, r.added_on, r.reversed_on) for r in rows(conn, acme)] == [
        (True, day(9), None),
        (False, None, None),
        (False, day(7), day(2)),
        (False, day(6), day(6)),
        (False, day(5), day(1)),
        (False, None, day(4)),
    ]
    revenue = sum((r.amount_excluding_tax for r in rows(conn, acme) if r.counts_as_revenue), D(0))
    assert revenue == money.lifetime_value(transactions)


def test_a_malformed_date_does_not_fail_the_write(conn: Connection) -> None:
    acme = f.tenant(conn, plan="Standard", payment_transactions=[f.payment_transaction(date=NOW, Date="not a date")])

    assert [(r.date, r.added_on) for r in rows(conn, acme)] == [(None, None)]


def test_the_utc_day_of_a_charge_ignores_the_written_offset(conn: Connection) -> None:
    late = f.payment_transaction(Date="2026-05-07T23:30:00-02:00")
    acme = f.tenant(conn, plan="Standard", payment_transactions=[late])

    assert rows(conn, acme)[0].added_on == date(2026, 5, 8)
