"""Invoices: the platform-wide list (backoffice.md 1.15, 0.6) and an account's
payment history (decisions.md: one row per Stripe transaction, with its refund
and credit-note status on the row). Both read the payment_transactions JSONB
inside PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from core.listing import as_utc, contains_pattern, normalized_search
from core.paging import Page, PageRequest
from db.enums import PaymentTransactionStatus


class InvoiceRowKind(StrEnum):
    Invoice = "Invoice"
    CreditNote = "CreditNote"
    Refund = "Refund"


class InvoiceStatusFilter(StrEnum):
    """Paid/Failed/Pending pick invoice rows by outcome; Refunded the refund rows;
    HasCreditNote the credit-note rows (backoffice.md 1.15)."""

    Paid = "Paid"
    Refunded = "Refunded"
    Failed = "Failed"
    Pending = "Pending"
    HasCreditNote = "HasCreditNote"


class InvoiceSort(StrEnum):
    date = "date"
    tenant_name = "tenant-name"
    total = "total"
    status = "status"


@dataclass(frozen=True)
class InvoiceRow:
    id: str  # the transaction id; with row_kind it is unique
    row_kind: InvoiceRowKind
    tenant_id: str
    tenant_name: str
    tenant_logo_url: str | None
    date: datetime
    plan: str | None
    amount: Decimal  # gross, what the card paid
    amount_excluding_tax: Decimal
    tax_amount: Decimal
    currency: str
    status: PaymentTransactionStatus
    failure_reason: str | None
    invoice_url: str | None
    credit_note_url: str | None
    credit_noted_at: datetime | None
    refunded_at: datetime | None


def _timestamp(key: str) -> str:
    return f"(tx->>'{key}')::timestamptz"


# Projection 0.6: every transaction is an Invoice row with its original outcome
# (Refunded shows as Succeeded), plus a CreditNote row, or else a Refund row.
ROWS_OF_TRANSACTION_SQL = f"""
    CROSS JOIN LATERAL (
        SELECT 'Invoice' AS row_kind, {_timestamp('Date')} AS row_date,
               CASE WHEN tx->>'Status' = 'Refunded' THEN 'Succeeded' ELSE tx->>'Status' END AS row_status
        UNION ALL
        SELECT 'CreditNote', COALESCE({_timestamp('CreditNotedAt')}, {_timestamp('RefundedAt')}, {_timestamp('Date')}),
               'Refunded'
        WHERE tx->>'CreditNoteUrl' IS NOT NULL
        UNION ALL
        SELECT 'Refund', COALESCE({_timestamp('RefundedAt')}, {_timestamp('Date')}), 'Refunded'
        WHERE tx->>'CreditNoteUrl' IS NULL AND (tx->>'Status' = 'Refunded' OR tx->>'RefundedAt' IS NOT NULL)
    ) r
"""
INVOICE_ROWS_SQL = f"""
    SELECT s.tenant_id, tx, r.row_kind, r.row_date, r.row_status
    FROM subscriptions s
    CROSS JOIN LATERAL jsonb_array_elements(s.payment_transactions) AS tx
    {ROWS_OF_TRANSACTION_SQL}
"""

# A transaction's fields, read as SQL types (numeric amounts stay exact).
TRANSACTION_COLUMNS = f"""
    tx->>'Id' AS id, tx->>'Plan' AS plan, (tx->>'Amount')::numeric(18, 2) AS amount,
    (tx->>'AmountExcludingTax')::numeric(18, 2) AS amount_excluding_tax,
    (tx->>'TaxAmount')::numeric(18, 2) AS tax_amount, tx->>'Currency' AS currency,
    tx->>'FailureReason' AS failure_reason, tx->>'InvoiceUrl' AS invoice_url,
    tx->>'CreditNoteUrl' AS credit_note_url, {_timestamp('CreditNotedAt')} AS credit_noted_at,
    {_timestamp('RefundedAt')} AS refunded_at
"""

STATUS_FILTER_SQL = {
    InvoiceStatusFilter.Paid: "(i.row_kind = 'Invoice' AND i.row_status = 'Succeeded')",
    InvoiceStatusFilter.Failed: "(i.row_kind = 'Invoice' AND i.row_status = 'Failed')",
    InvoiceStatusFilter.Pending: "(i.row_kind = 'Invoice' AND i.row_status = 'Pending')",
    InvoiceStatusFilter.Refunded: "i.row_kind = 'Refund'",
    InvoiceStatusFilter.HasCreditNote: "i.row_kind = 'CreditNote'",
}
_STATUS_NAMES = ", ".join(f"'{status}'" for status in PaymentTransactionStatus)
# Non-date sorts tie on the row date, newest first; the row key ends every order.
SORT_SQL = {
    InvoiceSort.date: "i.row_date {d}",
    InvoiceSort.tenant_name: "lower(t.name) {d}, i.row_date DESC",
    InvoiceSort.total: "(i.tx->>'Amount')::numeric {d}, i.row_date DESC",
    InvoiceSort.status: f"array_position(ARRAY[{_STATUS_NAMES}], i.row_status) {{d}}, i.row_date DESC",
}


def list_invoices(
    conn: Connection,
    *,
    search: str | None = None,
    statuses: Sequence[InvoiceStatusFilter] = (),
    sort: InvoiceSort = InvoiceSort.date,
    descending: bool = True,
    page: PageRequest = PageRequest(),
) -> Page[InvoiceRow]:
    """Invoice, credit-note and refund rows of every non-deleted tenant."""
    term = normalized_search(search)
    if sort is InvoiceSort.date and descending and not term and not statuses:
        return _newest_first(conn, page)
    conditions = ["t.deleted_at IS NULL"]
    params: dict[str, Any] = {}
    if term:
        conditions.append("lower(t.name) LIKE :pattern")
        params["pattern"] = contains_pattern(term)
    if statuses:
        conditions.append("(" + " OR ".join(STATUS_FILTER_SQL[s] for s in dict.fromkeys(statuses)) + ")")
    source = f"({INVOICE_ROWS_SQL}) i JOIN tenants t ON t.id = i.tenant_id WHERE {' AND '.join(conditions)}"
    total = conn.execute(text(f"SELECT count(*) FROM {source}"), params).scalar_one()
    if page.offset >= total:
        return Page([], total, page.page, page.page_size)
    order = SORT_SQL[sort].format(d="DESC" if descending else "ASC")
    return Page(_rows(conn, source, order, params, page), total, page.page, page.page_size)


def _rows(conn: Connection, source: str, order: str, params: dict[str, Any], page: PageRequest) -> list[InvoiceRow]:
    rows = conn.execute(
        text(
            f"SELECT {TRANSACTION_COLUMNS}, i.row_kind, i.row_date, i.row_status, i.tenant_id,"
            f" t.name AS tenant_name, t.logo->>'Url' AS tenant_logo_url FROM {source}"
            f" ORDER BY {order}, i.tenant_id, i.tx->>'Id', i.row_kind LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": page.page_size, "offset": page.offset},
    ).mappings()
    return [_invoice_row(row) for row in rows]


_LIVE_TENANT = "NOT EXISTS (SELECT 1 FROM tenants d WHERE d.id = p.tenant_id AND d.deleted_at IS NOT NULL)"


def _newest_first(conn: Connection, page: PageRequest) -> Page[InvoiceRow]:
    """The default view without unpacking every JSON array: payment_transaction_rows
    (migration 0004, one row per transaction, kept in step by a trigger) counts
    the rows and bounds the page. The page's newest rows are all dated at or
    after the date D of the (offset + limit)-th newest transaction, so only
    transactions charged since D, or reversed since D's day, are unpacked."""
    total = conn.execute(
        text(
            "SELECT count(*) + count(*) FILTER (WHERE p.reversed_on IS NOT NULL OR p.status = 'Refunded')"
            f" FROM payment_transaction_rows p WHERE {_LIVE_TENANT}"
        )
    ).scalar_one()
    if page.offset >= total:
        return Page([], total, page.page, page.page_size)
    bound = conn.execute(
        text(
            f"SELECT p.date FROM payment_transaction_rows p WHERE p.date IS NOT NULL AND {_LIVE_TENANT}"
            " ORDER BY p.date DESC, p.transaction_id DESC OFFSET :reach - 1 LIMIT 1"
        ),
        {"reach": page.offset + page.page_size},
    ).scalar_one_or_none()
    if bound is None:  # fewer transactions than the page reaches: unpack them all
        source = f"({INVOICE_ROWS_SQL}) i JOIN tenants t ON t.id = i.tenant_id WHERE t.deleted_at IS NULL"
        return Page(_rows(conn, source, "i.row_date DESC", {}, page), total, page.page, page.page_size)
    source = f"""(
        SELECT s.tenant_id, tx, r.row_kind, r.row_date, r.row_status
        FROM payment_transaction_rows p
        JOIN subscriptions s ON s.id = p.subscription_id
        CROSS JOIN LATERAL (SELECT s.payment_transactions -> (p.position - 1) AS tx) e
        {ROWS_OF_TRANSACTION_SQL}
        WHERE (p.date >= :bound OR p.reversed_on >= :bound_day) AND {_LIVE_TENANT}
    ) i JOIN tenants t ON t.id = i.tenant_id WHERE i.row_date >= :bound"""
    params = {"bound": bound, "bound_day": as_utc(bound).date()}
    return Page(_rows(conn, source, "i.row_date DESC", params, page), total, page.page, page.page_size)


def _invoice_row(row: Any) -> InvoiceRow:
    return InvoiceRow(
        id=row["id"],
        row_kind=InvoiceRowKind(row["row_kind"]),
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        tenant_logo_url=row["tenant_logo_url"],
        date=as_utc(row["row_date"]),
        plan=row["plan"],
        amount=row["amount"],
        amount_excluding_tax=row["amount_excluding_tax"],
        tax_amount=row["tax_amount"],
        currency=row["currency"],
        status=PaymentTransactionStatus(row["row_status"]),
        failure_reason=row["failure_reason"],
        invoice_url=row["invoice_url"],
        credit_note_url=row["credit_note_url"],
        credit_noted_at=as_utc(row["credit_noted_at"]),
        refunded_at=as_utc(row["refunded_at"]),
    )
