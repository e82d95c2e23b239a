"""The invoices list pages from payment_transaction_rows (migration 0006):
its counters follow every change of a subscription's transactions, and the
default view walks indexes instead of sorting every row."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, text

from core.invoices import InvoiceStatusFilter, list_invoices
from core.paging import PageRequest
from tests import factories as f


def day(month: int, date: int) -> datetime:
    return datetime(2025, month, date, tzinfo=UTC)


def counters(conn: Connection) -> dict[tuple[str, str], int]:
    rows = conn.execute(
        text(
            "SELECT row_kind, row_status, sum(invoice_rows) FROM invoice_row_counts GROUP BY 1, 2 HAVING sum(invoice_rows) <> 0"
        )
    )
    return {(kind, status): int(count) for kind, status, count in rows}


def test_counters_follow_the_transactions(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme", payment_transactions=[f.payment_transaction(date=day(1, 1))])
    assert counters(conn) == {("Invoice", "Succeeded"): 1}
    refunded = f.payment_transaction(date=day(2, 1), status="Refunded", RefundedAt=day(2, 3).isoformat())
    failed = f.payment_transaction(date=day(3, 1), status="Failed")
    f.update_subscription(conn, acme.id, payment_transactions=[f.payment_transaction(date=day(1, 1)), refunded, failed])
    assert counters(conn) == {("Invoice", "Succeeded"): 2, ("Invoice", "Failed"): 1, ("Refund", "Refunded"): 1}
    assert list_invoices(conn).total == 4
    assert list_invoices(conn, statuses=[InvoiceStatusFilter.Refunded]).total == 1
    f.update_subscription(conn, acme.id, payment_transactions=[])
    assert counters(conn) == {}
    assert list_invoices(conn).total == 0


def test_deleted_accounts_rows_are_left_out_of_the_counted_total(conn: Connection) -> None:
    f.tenant(conn, name="Acme", payment_transactions=[f.payment_transaction(date=day(1, 1))])
    f.tenant(conn, name="Gone", deleted_at=f.NOW, payment_transactions=[f.payment_transaction(date=day(1, 2))] * 2)
    page = list_invoices(conn)
    assert (page.total, [row.tenant_name for row in page.items]) == (1, ["Acme"])
    assert list_invoices(conn, statuses=[InvoiceStatusFilter.Paid, InvoiceStatusFilter.Failed]).total == 1


def test_status_sort_pages_across_statuses(conn: Connection) -> None:
    f.tenant(
        conn,
        name="Acme",
        payment_transactions=[
            f.payment_transaction(date=day(1, d), status=status)
            for d, status in enumerate(["Succeeded", "Failed", "Pending", "Succeeded", "Failed"], start=1)
        ],
    )
    everything = [row.status for row in list_invoices(conn, sort="status", descending=False).items]
    paged = [
        row.status
        for number in (1, 2, 3)
        for row in list_invoices(conn, sort="status", descending=False, page=PageRequest(number, 2)).items
    ]
    assert paged == everything == ["Succeeded", "Succeeded", "Failed", "Failed", "Pending"]


def test_default_view_walks_indexes(conn: Connection, statements: list[tuple[str, object]]) -> None:
    f.tenant(conn, name="Acme", payment_transactions=[f.payment_transaction(date=day(1, d)) for d in range(1, 4)])
    list_invoices(conn)
    page_query, parameters = next((sql, params) for sql, params in statements if ":reach" in sql or "LIMIT" in sql)
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {page_query}", parameters))
    assert "ix_payment_transaction_rows_invoice_status_date" in plan, plan
    assert "Seq Scan on payment_transaction_rows" not in plan, plan
