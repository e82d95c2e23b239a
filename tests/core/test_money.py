"""Forward MRR, lifetime value and has-ever-subscribed: Python and SQL agree."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import Connection, text

from core import money

D = Decimal


@pytest.mark.parametrize(
    ("current", "cancelling", "scheduled", "expected"),
    [
        (None, False, None, D("0")),
        (D("299.00"), False, None, D("299.00")),
        (D("299.00"), True, None, D("0")),
        (D("299.00"), False, D("149.00"), D("149.00")),
        (D("299.00"), True, D("149.00"), D("0")),
        (None, False, D("149.00"), D("0")),
    ],
    ids=["basis", "active", "cancelling", "downgrading", "cancelling-and-downgrading", "no-price"],
)
def test_forward_mrr_python_and_sql_agree(
    conn: Connection, current: Decimal | None, cancelling: bool, scheduled: Decimal | None, expected: Decimal
) -> None:
    assert money.forward_mrr(current, cancelling, scheduled) == expected
    sql = f"SELECT {money.forward_mrr_sql('s')} FROM (SELECT CAST(:c AS numeric(18,2)) AS current_price_amount, CAST(:x AS boolean) AS cancel_at_period_end, CAST(:s AS numeric(18,2)) AS scheduled_price_amount) AS s"
    assert conn.execute(text(sql), {"c": current, "x": cancelling, "s": scheduled}).scalar() == expected


TRANSACTIONS = [
    {"Status": "Succeeded", "AmountExcludingTax": 149.0, "CreditNoteUrl": None, "RefundedAt": None},
    {"Status": "Succeeded", "AmountExcludingTax": 149.0, "CreditNoteUrl": "https://cn", "RefundedAt": None},
    {"Status": "Succeeded", "AmountExcludingTax": 149.0, "RefundedAt": "2026-05-01T00:00:00+00:00"},
    {"Status": "Refunded", "AmountExcludingTax": 299.0, "RefundedAt": "2026-05-01T00:00:00+00:00"},
    {"Status": "Failed", "AmountExcludingTax": 299.0},
    {"Status": "Succeeded", "AmountExcludingTax": 0.1},
    {"Status": "Succeeded", "AmountExcludingTax": 0.2},
]


def test_lifetime_value_counts_only_clean_successes_without_float_error(conn: Connection) -> None:
    assert money.lifetime_value(TRANSACTIONS) == D("149.30")
    sql = f"SELECT {money.lifetime_value_sql('s')} FROM (SELECT CAST(:pt AS jsonb) AS payment_transactions) AS s"
    assert conn.execute(text(sql), {"pt": json.dumps(TRANSACTIONS)}).scalar() == D("149.3")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [([], False), (["Failed", "Pending"], False), (["Refunded"], True), (["Failed", "Succeeded"], True)],
)
def test_has_ever_subscribed(conn: Connection, statuses: list[str], expected: bool) -> None:
    transactions = [{"Status": s} for s in statuses]
    assert money.has_ever_subscribed(transactions) is expected
    sql = f"SELECT {money.has_ever_subscribed_sql('s')} FROM (SELECT CAST(:pt AS jsonb) AS payment_transactions) AS s"
    assert conn.execute(text(sql), {"pt": json.dumps(transactions)}).scalar() is expected


def test_percent_change_rounds_half_to_even_and_is_none_without_a_base() -> None:
    assert money.percent_change(D("105"), D("100")) == D("5.0")
    assert money.percent_change(3, 8, places=0) == D("-62")
    assert money.percent_change(1, 0) is None
    assert money.percent_change(D("100.25"), D("100"), places=1) == D("0.2")
