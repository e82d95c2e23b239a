"""A name search of the invoices list counts the matching tenants' rows from
ix_payment_transaction_rows_tenant_id alone (migration 0008): the statuses it
groups by are in the index, so the table is not visited."""

from __future__ import annotations

from sqlalchemy import Connection, text

from core.invoices import list_invoices
from tests import factories as f


def test_the_search_count_reads_only_the_index(conn: Connection, statements: list[tuple[str, object]]) -> None:
    transactions = [f.payment_transaction(), f.payment_transaction(status="Refunded")]
    f.tenant(conn, name="Abacus", payment_transactions=transactions)
    assert list_invoices(conn, search="ab").total == 3  # two invoice rows and the refund's row
    count_sql, parameters = next((sql, params) for sql, params in statements if "GROUP BY r.row_status" in sql)
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
    plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {count_sql}", parameters))
    assert "Index Only Scan using ix_payment_transaction_rows_tenant_id" in plan, plan
