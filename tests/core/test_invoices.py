"""The platform-wide invoices list: views, status filters, search, sorts and
paging (docs/rules.md R48, R95, R96; all on Tenant1 with 29.00 USD transactions)
and the projection of docs/rules.md R48 (an invoice row, plus a credit-note or a refund row)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection

from core.invoices import InvoiceRowKind, InvoiceSort, InvoiceStatusFilter, invoice_detail, list_invoices
from core.paging import PageRequest
from db.enums import PaymentTransactionStatus as S
from tests import factories as f

NOW = f.NOW


def day(month: int, date: int) -> datetime:
    return datetime(2025, month, date, tzinfo=UTC)


def usd(date: datetime, **extra: Any) -> dict[str, Any]:
    return f.payment_transaction(amount_excluding_tax="29.00", tax="0", currency="USD", date=date, **extra)


PAID = usd(day(1, 1), InvoiceUrl="https://stripe/invoice.pdf")
PAID_WITH_CREDIT_NOTE = usd(day(2, 1), CreditNoteUrl="https://stripe/cn-2.pdf", CreditNotedAt=day(2, 5).isoformat())
REFUNDED = usd(
    day(3, 1),
    status="Refunded",
    CreditNoteUrl="https://stripe/cn-3.pdf",
    RefundedAt=day(3, 4).isoformat(),
    CreditNotedAt=day(3, 4).isoformat(),
)
REFUNDED_WITHOUT_CREDIT_NOTE = usd(day(4, 1), status="Refunded", RefundedAt=day(4, 5).isoformat())
REFUNDED_WITH_LEGACY_NULL_DATES = usd(day(4, 1), status="Refunded", CreditNoteUrl="https://stripe/cn-legacy.pdf")


def tenant1(conn: Connection, *transactions: dict[str, Any]) -> f.TenantRef:
    return f.tenant(conn, name="", created_at=NOW, payment_transactions=list(transactions))


def kinds(rows: list[Any]) -> list[tuple[InvoiceRowKind, S]]:
    return [(row.row_kind, row.status) for row in rows]


def test_every_transaction_is_an_invoice_row_plus_its_reversal(conn: Connection) -> None:
    tenant1(conn, PAID, PAID_WITH_CREDIT_NOTE, REFUNDED)
    page = list_invoices(conn)
    assert page.total == 5
    assert sorted(kinds(page.items)) == sorted(
        [(InvoiceRowKind.Invoice, S.Succeeded)] * 3 + [(InvoiceRowKind.CreditNote, S.Refunded)] * 2
    )


def test_invoice_views(conn: Connection) -> None:
    tenant1(conn, PAID, PAID_WITH_CREDIT_NOTE, REFUNDED)
    invoices = list_invoices(
        conn, statuses=[InvoiceStatusFilter.Paid, InvoiceStatusFilter.Pending, InvoiceStatusFilter.Failed]
    )
    assert invoices.total == 3
    assert kinds(invoices.items) == [(InvoiceRowKind.Invoice, S.Succeeded)] * 3
    assert sum(row.credit_note_url is not None for row in invoices.items) == 2
    reversals = list_invoices(conn, statuses=[InvoiceStatusFilter.Refunded, InvoiceStatusFilter.HasCreditNote])
    assert kinds(reversals.items) == [(InvoiceRowKind.CreditNote, S.Refunded)] * 2


def test_refunded_transaction_shows_as_paid_invoice_and_credit_note(conn: Connection) -> None:
    tenant1(conn, REFUNDED)
    rows = list_invoices(conn).items
    assert kinds(rows) == [(InvoiceRowKind.CreditNote, S.Refunded), (InvoiceRowKind.Invoice, S.Succeeded)]
    assert [row.date for row in rows] == [day(3, 4), day(3, 1)]


def test_refund_without_credit_note_is_a_refund_row(conn: Connection) -> None:
    tenant1(conn, REFUNDED_WITHOUT_CREDIT_NOTE)
    rows = list_invoices(conn).items
    assert kinds(rows) == [(InvoiceRowKind.Refund, S.Refunded), (InvoiceRowKind.Invoice, S.Succeeded)]
    assert rows[0].date == day(4, 5) and rows[0].refunded_at == day(4, 5)


def test_refunded_filter_picks_refund_rows_only(conn: Connection) -> None:
    tenant1(conn, PAID_WITH_CREDIT_NOTE, REFUNDED_WITHOUT_CREDIT_NOTE)
    rows = list_invoices(conn, statuses=[InvoiceStatusFilter.Refunded]).items
    assert kinds(rows) == [(InvoiceRowKind.Refund, S.Refunded)]


def test_legacy_credit_note_without_dates_is_dated_at_the_invoice(conn: Connection) -> None:
    tenant1(conn, REFUNDED_WITH_LEGACY_NULL_DATES)
    rows = list_invoices(conn).items
    assert sorted(kinds(rows)) == sorted(
        [(InvoiceRowKind.Invoice, S.Succeeded), (InvoiceRowKind.CreditNote, S.Refunded)]
    )
    assert [row.date for row in rows] == [day(4, 1), day(4, 1)]


def test_credit_note_filter_with_legacy_row(conn: Connection) -> None:
    tenant1(conn, usd(day(4, 1)), usd(day(4, 15), status="Refunded", CreditNoteUrl="https://stripe/cn.pdf"))
    rows = list_invoices(conn, statuses=[InvoiceStatusFilter.Refunded, InvoiceStatusFilter.HasCreditNote]).items
    assert kinds(rows) == [(InvoiceRowKind.CreditNote, S.Refunded)]
    assert rows[0].credit_note_url == "https://stripe/cn.pdf"


def test_default_order_is_newest_row_first(conn: Connection) -> None:
    tenant1(conn, PAID_WITH_CREDIT_NOTE)
    rows = list_invoices(conn).items
    assert [(row.row_kind, row.date) for row in rows] == [
        (InvoiceRowKind.CreditNote, day(2, 5)),
        (InvoiceRowKind.Invoice, day(2, 1)),
    ]


def test_amounts_and_account(conn: Connection) -> None:
    ref = f.tenant(conn, name="Acme", payment_transactions=[f.payment_transaction(plan="Premium", date=day(5, 1))])
    [row] = list_invoices(conn).items
    assert (row.amount, row.amount_excluding_tax, row.tax_amount, row.currency) == (
        Decimal("186.25"),
        Decimal("149.00"),
        Decimal("37.25"),
        "DKK",
    )
    assert (row.tenant_id, row.tenant_name, row.plan) == (str(ref.id), "Acme", "Premium")


def test_rows_carry_the_stripe_invoice_and_its_dashboard_link(conn: Connection) -> None:
    """R120: the transaction's StripeInvoiceId, linked in the key's mode; none on older transactions."""
    f.tenant(conn, name="Acme", payment_transactions=[usd(day(5, 1), StripeInvoiceId="in_1Acme"), usd(day(4, 1))])
    newer, older = list_invoices(conn, stripe_api_key="sk_test_x").items
    assert (newer.stripe_invoice_id, newer.stripe_invoice_url) == (
        "in_1Acme",
        "https://dashboard.stripe.com/test/invoices/in_1Acme",
    )
    assert (older.stripe_invoice_id, older.stripe_invoice_url) == (None, None)
    [live, _] = list_invoices(conn).items
    assert live.stripe_invoice_url == "https://dashboard.stripe.com/invoices/in_1Acme"
    detail = invoice_detail(conn, newer.tenant_id, newer.id, stripe_api_key="rk_test_x")
    assert (detail.stripe_invoice_id, detail.stripe_invoice_url) == (
        "in_1Acme",
        "https://dashboard.stripe.com/test/invoices/in_1Acme",
    )
    assert invoice_detail(conn, older.tenant_id, older.id).stripe_invoice_id is None


def test_search_sorts_and_soft_deleted_accounts(conn: Connection) -> None:
    f.tenant(conn, name="Acme", payment_transactions=[usd(day(1, 1)), usd(day(3, 1), status="Failed")])
    f.tenant(conn, name="Bravo", payment_transactions=[f.payment_transaction(date=day(2, 1))])
    f.tenant(conn, name="Gone", deleted_at=NOW - timedelta(days=1), payment_transactions=[usd(day(6, 1))])
    assert [r.tenant_name for r in list_invoices(conn, search="BRAV").items] == ["Bravo"]
    by_name = list_invoices(conn, sort=InvoiceSort.tenant_name, descending=False).items
    assert [(r.tenant_name, r.date) for r in by_name] == [
        ("Acme", day(3, 1)),
        ("Acme", day(1, 1)),
        ("Bravo", day(2, 1)),
    ]
    by_total = list_invoices(conn, sort=InvoiceSort.total).items
    assert by_total[0].tenant_name == "Bravo"
    by_status = list_invoices(conn, sort=InvoiceSort.status, descending=False).items
    assert [r.status for r in by_status] == [S.Succeeded, S.Succeeded, S.Failed]
    oldest_first = list_invoices(conn, descending=False).items
    assert [r.date for r in oldest_first] == [day(1, 1), day(2, 1), day(3, 1)]


def test_paging_and_no_transactions(conn: Connection) -> None:
    f.tenant(conn, name="Empty")
    assert list_invoices(conn).total == 0
    tenant1(conn, *(usd(day(1, d)) for d in range(1, 6)))
    second = list_invoices(conn, page=PageRequest(2, 2))
    assert (second.total, [r.date for r in second.items]) == (5, [day(1, 3), day(1, 2)])
    past_end = list_invoices(conn, page=PageRequest(9, 2))
    assert (past_end.items, past_end.total) == ([], 5)


@pytest.mark.parametrize("status", list(InvoiceStatusFilter))
def test_every_status_filter_runs(conn: Connection, status: InvoiceStatusFilter) -> None:
    tenant1(conn, PAID, REFUNDED_WITHOUT_CREDIT_NOTE, usd(day(5, 1), status="Pending"), usd(day(6, 1), status="Failed"))
    expected = {
        InvoiceStatusFilter.Paid: [(InvoiceRowKind.Invoice, S.Succeeded)] * 2,
        InvoiceStatusFilter.Pending: [(InvoiceRowKind.Invoice, S.Pending)],
        InvoiceStatusFilter.Failed: [(InvoiceRowKind.Invoice, S.Failed)],
        InvoiceStatusFilter.Refunded: [(InvoiceRowKind.Refund, S.Refunded)],
        InvoiceStatusFilter.HasCreditNote: [],
    }
    assert kinds(list_invoices(conn, statuses=[status]).items) == expected[status]


def test_newest_first_view_agrees_with_unpacking_every_array(conn: Connection) -> None:
    """The default view pages from payment_transaction_rows; every page must be
    the one the full projection gives (here: all statuses, same order)."""
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    f.tenant(
        conn,
        name="Acme",
        payment_transactions=[
            usd(start + timedelta(days=1)),
            usd(start + timedelta(days=3), status="Refunded", RefundedAt=(start + timedelta(days=8)).isoformat()),
            usd(start + timedelta(days=5), CreditNoteUrl="https://stripe/cn.pdf"),
            usd(start + timedelta(days=6), status="Refunded"),
        ],
    )
    f.tenant(
        conn,
        name="Bravo",
        payment_transactions=[
            usd(start + timedelta(days=2, hours=1)),
            usd(
                start + timedelta(days=4),
                CreditNoteUrl="https://stripe/cn2.pdf",
                CreditNotedAt=(start + timedelta(days=9, hours=5)).isoformat(),
            ),
            usd(start + timedelta(days=7), status="Failed"),
        ],
    )
    f.tenant(conn, name="Gone", deleted_at=NOW, payment_transactions=[usd(start + timedelta(days=10))])
    everything = list(InvoiceStatusFilter)
    for size in (1, 2, 3):
        for number in range(1, 12 // size + 2):
            request = PageRequest(number, size)
            fast = list_invoices(conn, page=request)
            assert fast == list_invoices(conn, statuses=everything, page=request)
            assert fast.total == 11
